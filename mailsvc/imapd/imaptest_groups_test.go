package imapd_test

import (
	"strings"
	"testing"
)

// More replays of imaptest scripts that go-imap's example server fails:
// fetch-envelope, search-addresses, id and atoms.

// The messages of imaptest's fetch-envelope.mbox, written anew: one with
// every envelope field, two with only From, one with groups in To and a
// comment for a display name, one with empty Sender and Reply-To, one
// with an obsolete source route.
var itEnvelopeMbox = []itMsg{
	itMail("Message-ID: <msg@id>\nIn-Reply-To: <reply@to.id>\nDate: Sat, 01 Feb 2007 01:02:03 +0200\n" +
		"Subject: subject header\nFrom: From Real <fromuser@fromdomain.org>\nTo: To Real <touser@todomain.org>\n" +
		"Cc: Cc Real <ccuser@ccdomain.org>\nBcc: Bcc Real <bccuser@bccdomain.org>\n" +
		"Sender: Sender Real <senderuser@senderdomain.org>\nReply-To: ReplyTo Real <replytouser@replytodomain.org>\n\nbody\n"),
	itMail("Date: Sat, 01 Feb 2007 01:02:03 +0200\nFrom: user@domain\n\nbody\n"),
	itMail("Date: Sat, 01 Feb 2007 01:02:03 +0200\nFrom: user@domain\n\nbody\n"),
	itMail("Date: Sat, 01 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\n" +
		"To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\n\nbody\n"),
	itMail("Date: Sat, 01 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\nSender: \nReply-To: \n\nbody\n"),
	itMail("Date: Sat, 01 Feb 2007 01:02:03 +0200\nFrom: <@route:user@domain>\n\nbody\n"),
}

// fetch-envelope: ENVELOPE's fields (RFC 9051 7.5.2): Sender and Reply-To
// default to From, groups, a comment as display name, source routes.
//
// One of the script's expectations cannot be met with go-imap v2, whose
// imap.Envelope holds the date as a time.Time; it is checked in a skipped
// subtest. The rest is checked here with "$" for the date.
func TestImaptestFetchEnvelope(t *testing.T) {
	itReplay(t, itScript{mbox: itEnvelopeMbox}, func(it *itRun) {
		const date = `"Sat, 01 Feb 2007 01:02:03 +0200"`
		const user = `((NIL NIL "user" "domain"))`
		const real = `(("Real Name" NIL "user" "domain"))`
		want := []string{
			`* 1 FETCH (ENVELOPE (` + date + ` "subject header" (("From Real" NIL "fromuser" "fromdomain.org")) ` +
				`(("Sender Real" NIL "senderuser" "senderdomain.org")) (("ReplyTo Real" NIL "replytouser" "replytodomain.org")) ` +
				`(("To Real" NIL "touser" "todomain.org")) (("Cc Real" NIL "ccuser" "ccdomain.org")) ` +
				`(("Bcc Real" NIL "bccuser" "bccdomain.org")) "<reply@to.id>" "<msg@id>"))`,
			`* 2 FETCH (ENVELOPE (` + date + ` NIL ` + user + ` ` + user + ` ` + user + ` NIL NIL NIL NIL NIL))`,
			`* 3 FETCH (ENVELOPE (` + date + ` NIL ` + user + ` ` + user + ` ` + user + ` NIL NIL NIL NIL NIL))`,
			`* 4 FETCH (ENVELOPE (` + date + ` NIL ` + real + ` ` + real + ` ` + real + ` ` +
				`((NIL NIL "group" NIL) (NIL NIL "g1" "d1.org") (NIL NIL "g2" "d2.org") (NIL NIL NIL NIL) ` +
				`(NIL NIL "group2" NIL) (NIL NIL "g3" "d3.org") (NIL NIL NIL NIL)) NIL NIL NIL NIL))`,
			`* 5 FETCH (ENVELOPE (` + date + ` NIL ` + real + ` ` + real + ` ` + real + ` NIL NIL NIL NIL NIL))`,
			`* 6 FETCH (ENVELOPE (` + date + ` NIL ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ` +
				`((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL))`,
		}
		// go-imap writes the date from a time.Time, with the weekday of
		// the date (1 Feb 2007 was a Thursday, not the header's
		// Saturday).
		possible := make([]string, len(want))
		for i, w := range want {
			possible[i] = strings.ReplaceAll(w, date, "$")
		}
		lines := it.ok(1, "fetch 1:* envelope", possible...)
		for _, l := range lines {
			if len(l) > 2 && l[1].s == "FETCH" {
				env := l[2].list[1].list
				if got := env[0].s; got != "Thu, 01 Feb 2007 01:02:03 +0200" {
					it.t.Errorf("message %s: ENVELOPE date %q, want the header's time and zone", l[0].s, got)
				}
			}
		}
		it.t.Run("date as written", func(t *testing.T) {
			t.Skip(`impossible in go-imap v2: imap.Envelope.Date is a time.Time that writeEnvelope formats ` +
				`("Thu, 01 Feb 2007 ..."), so the Date header's own text ("Sat, 01 Feb 2007 ...") is lost`)
			it.ok(1, "fetch 1:* envelope", want[:5]...)
		})
		// The route is kept (imap.Address.Route, third_party/go-imap patch 9).
		it.ok(1, "fetch 6 envelope", strings.ReplaceAll(want[5], date, "$"))
	})
}

// The messages of imaptest's search-addresses.mbox, written anew.
var itAddressesMbox = []itMsg{
	itMail("From: user-from@domain.org\nTo: user-to@domain.org\nCc: user-cc@domain.org\nBcc: user-bcc@domain.org\n\nbody\n"),
	itMail("From: RealFrom <user-from@domain.org>\nTo: RealTo <user-to@domain.org>\nCc: RealCc <user-cc@domain.org>\n" +
		"Bcc: RealBcc <user-bcc@domain.org>\n\nbody2\n"),
	itMail("From: <user-from (comment)@ (comment) domain.org>\nTo: <user-to@domain.org>\nCc: <user-cc@domain.org>\n" +
		"Bcc: <user-bcc@domain.org>\n\nbody3\n"),
	itMail("From: user-from@domain.org (RealFrom)\nTo: user-to@domain.org (RealTo)\nCc: user-cc@domain.org (RealCc)\n" +
		"Bcc: user-bcc@domain.org (RealBcc)\n\nbody4\n"),
	itMail("From: user-from1@domain.org, user-from2@domain.org\nCc: user-cc@domain.org\n\nbody5\n"),
	itMail("To: groupname: groupuser1@domain.org, groupuser2@domain.org;,\n  groupname2: groupuser3@domain.org;\n\nbody5\n"),
}

// search-addresses: FROM, TO, CC and BCC match addresses and display
// names, whole or in part, whatever way the header spells them.
func TestImaptestSearchAddresses(t *testing.T) {
	itReplay(t, itScript{mbox: itAddressesMbox}, func(it *itRun) {
		it.soft = true
		for _, c := range [][2]string{
			// Whole addresses; message 3's From has comments inside
			// its address ("<user-from (comment)@ (comment)
			// domain.org>"), found by the address it spells.
			{"from user-from@domain.org", "1 2 3 4"}, {"to user-to@domain.org", "1 2 3 4"},
			{"cc user-cc@domain.org", "1 2 3 4 5"}, {"bcc user-bcc@domain.org", "1 2 3 4"},
			// Display names.
			{"from realfrom", "2 4"}, {"to realto", "2 4"}, {"cc realcc", "2 4"}, {"bcc realbcc", "2 4"},
			// Whether the field is there.
			{`header from ""`, "1 2 3 4 5"}, {`header to ""`, "1 2 3 4 6"},
			{`header cc ""`, "1 2 3 4 5"}, {`header bcc ""`, "1 2 3 4"},
			// Parts of addresses.
			{"from ser-fro", "1 2 3 4 5"}, {"to ser-t", "1 2 3 4"}, {"cc ser-c", "1 2 3 4 5"}, {"bcc ser-bc", "1 2 3 4"},
			// Parts of display names.
			{"from ealfro", "2 4"}, {"to ealt", "2 4"}, {"cc ealc", "2 4"}, {"bcc ealbc", "2 4"},
			// Several addresses.
			{"from user-from1", "5"}, {"from user-from2", "5"},
			// Groups.
			{"to groupname", "6"}, {"to groupname2", "6"}, {"to groupuser1", "6"},
			{"to groupuser2", "6"}, {"to groupuser3", "6"}, {"to groupuser4", ""},
		} {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
		// Not in the script: the ENVELOPE of message 3, whose From
		// has comments inside its address.
		it.ok(1, "fetch 3 envelope", `* 3 fetch (envelope ($ $ ((NIL NIL "user-from" "domain.org")) $ $ $ $ $ $ $))`)
	})
}

// id: ID (RFC 2971). imaptest's id script is not among the stored copies
// of its repository we can read, so this follows the RFC: ID with NIL or
// a list of field-value pairs is answered with one untagged ID, in any
// state.
func TestImaptestID(t *testing.T) {
	for name, state := range map[string]itState{"auth": itAuth, "selected": itSelected} {
		t.Run(name, func(t *testing.T) {
			itReplay(t, itScript{caps: []string{"ID"}, state: state}, itIDScript)
		})
	}
}

func itIDScript(it *itRun) {
	it.ok(1, "id nil", "* id $")
	it.ok(1, `id ("name" "imaptest" "version" "1.0")`, "* id $")
	it.ok(1, `id ("name" NIL)`, "* id $")
	it.ok(1, "id ()", "* id $")
	it.bad(1, "id")
}

// atoms: keywords are atoms (RFC 9051 9: flag-keyword), so any ATOM-CHAR
// may be in one, and they come back as sent. imaptest's atoms script is
// not among the stored copies of its repository we can read, so this
// follows the RFC grammar.
func TestImaptestAtoms(t *testing.T) {
	itReplay(t, itScript{messages: 2}, func(it *itRun) {
		// ATOM-CHAR: any CHAR but atom-specials: ( ) { SP CTL % * " \ ]
		kws := []string{"$$Label1", "Foo_Bar", "a-b.c", "x+y", "a!b", "a#b", "a&b", "a'b", "a,b", "a/b",
			"a:b", "a;b", "a<b>", "a=b", "a?b", "a@b", "a[b", "a^b", "a`b", "a|b", "a~b", "a}b"}
		it.ok(1, "store 1 flags ("+strings.Join(kws, " ")+")")
		it.ok(1, "fetch 1 flags", "* 1 fetch (flags ("+strings.Join(kws, " ")+"))")
		for _, k := range kws {
			it.ok(1, "search keyword "+k, "* search 1")
		}
		// Mailbox names are astrings: atom, quoted string or literal,
		// and an astring may also hold "]" (RFC 9051 9: ASTRING-CHAR).
		it.ok(1, "create ${mailbox}a]b")
		it.ok(1, `status "${mailbox}a]b" (messages)`, `* status "${mailbox}a]b" (messages 0)`)
		it.ok(1, "status "+itLit("imaptesta]b")+" (messages)", `* status "${mailbox}a]b" (messages 0)`)
		// Valid atoms but not valid modified UTF-7: no mailbox's name, so
		// NO, and LIST lists nothing (as Dovecot).
		it.no(1, "select "+badUTF7Name)
		it.ok(1, `list "" `+badUTF7Name)
		it.ok(1, "select ${mailbox}")
		// Not atoms: a keyword with an atom-special.
		for _, k := range []string{"a%b", "a*b", `a\b`, "a]b", `a"b`, "a{b"} {
			it.cmd(1, "store 2 flags ("+k+")", "")
		}
		it.ok(1, "fetch 2 flags", "* 2 fetch (flags ())")
	})
}
