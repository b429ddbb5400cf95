package imapd_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestImaplib drives the server with Python's imaplib, an independent
// client: STARTTLS and implicit TLS, both login forms, folders, APPEND,
// FETCH, SEARCH, STORE, COPY, EXPUNGE, IDLE-less polling, QUOTA.
func TestImaplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but python3 is not installed")
		}
		t.Skip("python3 not installed: the Python client test did not run")
	}
	e := newEnv(t, tenantstest.Open(t, database.SQLite), nil)
	e.deliver(e.john, "", msgPlain)
	e.deliver(e.john, "", msgMultipart)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	tcheck(t, os.WriteFile(ca, certPEM(t, e), 0o600), "ca")
	host, port, _ := net.SplitHostPort(e.addr)
	_, tport, _ := net.SplitHostPort(e.tlsAddr)
	script := `
import imaplib, ssl, sys
host, port, tport, cafile, pw = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)

m = imaplib.IMAP4(host, int(port))
assert 'LOGINDISABLED' in m.capabilities, m.capabilities
m.starttls(ssl_context=ctx)
typ, _ = m.login('john/example.test', pw)
assert typ == 'OK'
typ, data = m.list()
names = [l.decode() for l in data]
assert any('"Sent"' in n and '\\Sent' in n for n in names), names
assert m.create('Projects/2026')[0] == 'OK'
typ, data = m.select('INBOX')
assert typ == 'OK' and data == [b'2'], data
typ, data = m.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)')
assert typ == 'OK' and b'Subject: Hello there' in data[0][1], data
typ, data = m.search(None, 'SUBJECT', 'hello')
assert data == [b'1'], data
typ, data = m.search('UTF-8', 'BODY', 'brot')
assert data == [b'2'], data
typ, data = m.store('1', '+FLAGS', '(\\Flagged)')
assert typ == 'OK' and b'\\Flagged' in data[0], data
typ, data = m.uid('COPY', '1:2', 'Projects/2026')
assert typ == 'OK', data
typ, data = m.append('Drafts', '(\\Draft)', None, b'Subject: draft\r\n\r\nbody\r\n')
assert typ == 'OK' and b'APPENDUID' in data[0], data
typ, data = m.getquotaroot('INBOX')
assert typ == 'OK', data
m.store('2', '+FLAGS', '(\\Deleted)')
typ, data = m.expunge()
assert data == [b'2'], data
m.logout()

m = imaplib.IMAP4_SSL(host, int(tport), ssl_context=ctx)
m.login('john@example.test', pw)
typ, data = m.status('Projects/2026', '(MESSAGES UIDNEXT)')
assert b'MESSAGES 2' in data[0], data
typ, data = m.select('Projects/2026', readonly=True)
typ, data = m.fetch('2', '(BODYSTRUCTURE)')
assert b'"mixed"' in data[0].lower() or b'mixed' in data[0].lower(), data
m.close()
m.logout()
print('ok')
`
	f := filepath.Join(dir, "imap.py")
	tcheck(t, os.WriteFile(f, []byte(script), 0o600), "script")
	out, err := exec.Command(py, f, host, port, tport, ca, password).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("imaplib: %v\n%s", err, out)
	}
}
