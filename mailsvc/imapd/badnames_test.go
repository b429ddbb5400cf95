package imapd_test

import "testing"

// imaptest's atoms script: valid atoms, but not valid modified UTF-7.
const badUTF7Name = "!#$$&'+,-.0123456789:;<=>?@^_`|[}"

// TestInvalidMailboxNamesAreNO: a mailbox name that parses but is not valid
// modified UTF-7 (RFC 3501 5.1.3) names no mailbox: NO for a command that
// names one, OK with no entries for LIST, as Dovecot answers. It was BAD
// "Syntax error" (issue 13).
func TestInvalidMailboxNamesAreNO(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.raw(true)
		r.login("john@example.test")
		for _, cmd := range []string{
			"SELECT " + badUTF7Name,
			"EXAMINE " + badUTF7Name,
			"STATUS " + badUTF7Name + " (MESSAGES)",
			"CREATE " + badUTF7Name,
			"DELETE " + badUTF7Name,
			"RENAME INBOX " + badUTF7Name,
			"SUBSCRIBE " + badUTF7Name,
			"GETQUOTAROOT " + badUTF7Name,
			"APPEND " + badUTF7Name + " {5}",
		} {
			r.expect("n", cmd, "NO")
		}
		for _, cmd := range []string{`LIST "" ` + badUTF7Name, "LIST " + badUTF7Name + ` "*"`, `LSUB "" ` + badUTF7Name} {
			if lines := r.expect("l", cmd, "OK"); len(lines) != 0 {
				t.Errorf("%s: entries %q", cmd, lines)
			}
		}
		// A syntax error after the name is still one.
		r.expect("b", "SELECT "+badUTF7Name+" x", "BAD")
		r.expect("s", "SELECT INBOX", "OK")
		r.expect("c", "COPY 1:* "+badUTF7Name, "NO")

	})
}
