package imapd_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// folderNames are the names of a mailbox's folders in the store.
func folderNames(t *testing.T, e *env, mailbox int64) map[string]bool {
	t.Helper()
	fs, err := e.st.Folders(context.Background(), mailbox)
	tcheck(t, err, "folders")
	names := map[string]bool{}
	for _, f := range fs {
		names[f.Name] = true
	}
	return names
}

// TestRawUTF8MailboxNames: without ENABLE UTF8=ACCEPT (or IMAP4rev2) a
// mailbox name is modified UTF-7 (RFC 3501 5.1.3); raw UTF-8 in it is no
// mailbox's name, refused with NO by every command that takes one and
// matching nothing in LIST, as Dovecot answers. After ENABLE UTF8=ACCEPT
// (RFC 6855 3) raw UTF-8 names are taken and listed as UTF-8. Each session
// lists a folder in the encoding it sends. CREATE, SELECT, STATUS and
// APPEND took raw UTF-8 from any session and LIST gave the name back in
// modified UTF-7; GETQUOTAROOT refused it (issue 13).
func TestRawUTF8MailboxNames(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.raw(true)
		r.login("john@example.test")
		caps, _ := r.cmd("c", "CAPABILITY")
		if !hasLine(caps, " UTF8=ACCEPT") {
			t.Fatalf("UTF8=ACCEPT not offered: %q", caps)
		}
		const name = "Привет"
		q := quote(name)
		for _, cmd := range []string{
			"CREATE " + q,
			"SELECT " + q,
			"EXAMINE " + q,
			"STATUS " + q + " (MESSAGES)",
			"DELETE " + q,
			"RENAME INBOX " + q,
			"SUBSCRIBE " + q,
			"UNSUBSCRIBE " + q,
			"GETQUOTAROOT " + q,
			"APPEND " + q + " {5}",
		} {
			r.expect("n", cmd, "NO")
		}
		// The same name as a literal.
		r.send("n CREATE {" + strconv.Itoa(len(name)) + "}\r\n")
		if l := r.line(); !strings.HasPrefix(l, "+") {
			t.Fatalf("literal: %q", l)
		}
		r.send(name + "\r\n")
		if _, done := r.until("n"); !strings.HasPrefix(done, "n NO") {
			t.Fatalf("CREATE of a literal with raw UTF-8: %q", done)
		}
		for _, cmd := range []string{`LIST "" ` + q, `LIST "" "Прив*"`, `LSUB "" "*ет"`} {
			if lines := r.expect("l", cmd, "OK"); len(lines) != 0 {
				t.Errorf("%s: entries %q", cmd, lines)
			}
		}
		if folderNames(t, e, e.john)[name] {
			t.Fatalf("folder %q created from raw UTF-8", name)
		}

		// The name in modified UTF-7 is the folder.
		const mutf7 = "&BB8EQAQ4BDIENQRC-"
		r.expect("c", "CREATE "+mutf7, "OK")
		if !folderNames(t, e, e.john)[name] {
			t.Fatalf("CREATE %s made no folder %q", mutf7, name)
		}
		if lines := r.expect("l", `LIST "" "&BB8-*"`, "OK"); len(lines) != 1 || !strings.HasSuffix(lines[0], `"`+mutf7+`"`) {
			t.Errorf("LIST: %q, want %s", lines, mutf7)
		}
		r.expect("q", "GETQUOTAROOT "+mutf7, "OK")
		r.expect("s", "STATUS "+mutf7+" (MESSAGES)", "OK")
		r.expect("s", "SELECT INBOX", "OK")
		e.deliver(e.john, "", msgPlain)
		r.expect("n", "NOOP", "OK")
		r.expect("c", "COPY 1 "+q, "NO")
		r.expect("c", "MOVE 1 "+q, "NO")
		r.expect("c", "COPY 1 "+mutf7, "OK")

		// After ENABLE UTF8=ACCEPT, UTF-8 both ways.
		u := e.raw(true)
		u.login("john@example.test")
		u.expect("e", "ENABLE UTF8=ACCEPT", "OK")
		for _, cmd := range []string{"STATUS " + q + " (MESSAGES)", "GETQUOTAROOT " + q, "SUBSCRIBE " + q, "CREATE " + quote("Ünï"), "EXAMINE " + q} {
			u.expect("u", cmd, "OK")
		}
		if lines := u.expect("l", `LIST "" "*"`, "OK"); !hasLine(lines, `"/" "`+name+`"`) || !hasLine(lines, `"/" "Ünï"`) || hasLine(lines, "&") {
			t.Errorf("LIST after ENABLE UTF8=ACCEPT: %q", lines)
		}
		if !folderNames(t, e, e.john)["Ünï"] {
			t.Fatal("CREATE after ENABLE UTF8=ACCEPT made no folder Ünï")
		}
		// ENABLE IMAP4rev2 (RFC 9051 5.1) too.
		v := e.raw(true)
		v.login("john@example.test")
		v.expect("e", "ENABLE IMAP4rev2", "OK")
		v.expect("v", "STATUS "+q+" (MESSAGES)", "OK")
		// The session without either sees that folder in modified UTF-7.
		if lines := r.expect("l", `LIST "" "*"`, "OK"); !hasLine(lines, `"&ANw-n&AO8-"`) || !hasLine(lines, `"`+mutf7+`"`) || hasLine(lines, "Ü") || hasLine(lines, name) {
			t.Errorf("LIST without UTF8=ACCEPT: %q", lines)
		}
	})
}

// TestUTF8NamesImapclient: go-imap's client sends non-ASCII names in
// modified UTF-7 until it enables UTF8=ACCEPT, and in UTF-8 after; either
// way it gets back the name it created.
func TestUTF8NamesImapclient(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for i, enable := range []bool{false, true} {
			name := []string{"Entwürfe", "Черновики"}[i]
			c := e.client("john@example.test", nil)
			if enable {
				if _, err := c.Enable(imap.CapUTF8Accept).Wait(); err != nil {
					t.Fatalf("ENABLE: %v", err)
				}
			}
			tcheck(t, c.Create(name, nil).Wait(), "create "+name)
			cmd := c.Append(name, int64(len(msgPlain)), nil)
			cmd.Write([]byte(msgPlain))
			tcheck(t, cmd.Close(), "append close")
			_, err := cmd.Wait()
			tcheck(t, err, "append to "+name)
			st, err := c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
			tcheck(t, err, "status "+name)
			if st.Mailbox != name || st.NumMessages == nil || *st.NumMessages != 1 {
				t.Errorf("STATUS %s: %+v", name, st)
			}
			tcheck(t, c.Subscribe(name).Wait(), "subscribe")
			list, err := c.List("", "*", nil).Collect()
			tcheck(t, err, "list")
			n := 0
			for _, l := range list {
				if l.Mailbox == name {
					n++
				}
			}
			if n != 1 {
				t.Errorf("LIST: %d entries named %q in %+v", n, name, list)
			}
			if !folderNames(t, e, e.john)[name] {
				t.Errorf("no folder %q in the store", name)
			}
		}
	})
}
