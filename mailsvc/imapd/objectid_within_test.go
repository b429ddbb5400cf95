package imapd_test

import "testing"

// WITHIN (RFC 5032): OLDER and YOUNGER, in seconds before now, by the
// internal date. imaptest has no script for it.
func TestWithin(t *testing.T) {
	itReplay(t, itScript{caps: []string{"WITHIN"}, state: itCreated}, func(it *itRun) {
		it.ok(1, `append $mailbox "01-Jan-2000 10:00:00 +0000" `+itLit(itCRLF("Subject: old\n\nold\n")))
		it.ok(1, `append $mailbox "01-Jan-2020 10:00:00 +0000" `+itLit(itCRLF("Subject: older\n\nolder\n")))
		it.ok(1, "append $mailbox "+itLit(itCRLF("Subject: new\n\nnew\n"))) // now
		it.ok(1, "select $mailbox")
		it.ok(1, "fetch 1:3 uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)")
		it.ok(1, "search older 3600", "* search 1 2")
		it.ok(1, "search younger 3600", "* search 3")
		it.ok(1, "uid search younger 3600", "* search $uid3")
		// Both: within the last 100 years but more than an hour ago.
		it.ok(1, "search older 3600 younger 3153600000", "* search 1 2")
		it.ok(1, "search not younger 3600", "* search 1 2")
		it.ok(1, "search or older 3600 subject new", "* search 1 2 3")
		it.bad(1, "search older 0")
		it.bad(1, "search younger x")
	})
}

// OBJECTID (RFC 8474): MAILBOXID from CREATE, STATUS and SELECT, kept by
// RENAME; EMAILID kept by COPY, distinct per message; THREADID NIL;
// SEARCH EMAILID and THREADID. imaptest has no script for it.
func TestObjectID(t *testing.T) {
	itReplay(t, itScript{caps: []string{"OBJECTID"}, state: itAuth}, func(it *itRun) {
		it.cmd(1, "create $mailbox", "ok [mailboxid ($mbid)]")
		it.cmd(1, "create other", "ok [mailboxid ($other)]")
		it.ok(1, "status $mailbox (mailboxid messages)", "* status $mailbox (mailboxid ($mbid) messages 0)")
		it.ok(1, "status other (mailboxid)", "* status other (mailboxid ($other))", "! status other (mailboxid ($mbid))")
		it.ok(1, "rename $mailbox renamed")
		it.ok(1, "status renamed (mailboxid)", "* status renamed (mailboxid ($mbid))")
		it.ok(1, "append renamed "+itLit(itCRLF("Subject: a\n\na\n")))
		it.ok(1, "append renamed "+itLit(itCRLF("Subject: a\n\na\n")))
		it.ok(1, "select renamed", "* ok [mailboxid ($mbid)]")
		it.ok(1, "fetch 1:2 (emailid threadid)", "* 1 fetch (emailid ($e1) threadid nil)", "* 2 fetch (emailid ($e2) threadid nil)",
			"! 2 fetch (emailid ($e1))")
		it.ok(1, "search emailid $e2", "* search 2")
		it.ok(1, "search threadid $e2", "* search", "! search $ $!extra")
		it.ok(1, "copy 1 other")
		it.ok(1, "examine other", "* ok [mailboxid ($other)]")
		it.ok(1, "fetch 1 (emailid)", "* 1 fetch (emailid ($e1))")
		it.ok(1, "uid search emailid $e1", "* search $")
	})
}
