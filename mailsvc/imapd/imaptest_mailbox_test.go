package imapd_test

import (
	"strconv"
	"strings"
	"testing"
)

// Replays of imaptest's scripts about mailboxes and several connections:
// list, append, expunge, expunge2, store, close and pipeline-connections.

// list: LIST patterns with "%" and "*" in the middle and at the end, a
// reference, names with children created with a trailing separator, seen
// from three connections.
func TestImaptestList(t *testing.T) {
	itReplay(t, itScript{conns: 3, state: itAuth}, func(it *itRun) {
		it.ok(1, `list "" ""`, `* list () $sep ""`, `* list (\noselect) $sep ""`)

		it.ok(1, "create $mailbox${sep}")
		it.ok(1, "create $mailbox${sep}test")
		it.ok(2, `list "" $mailbox${sep}%`, "* list () $sep $mailbox${sep}test")

		it.ok(2, "create $mailbox${sep}test2")
		it.ok(1, `list "" $mailbox${sep}%`, "* list () $sep $mailbox${sep}test", "* list () $sep $mailbox${sep}test2")

		it.ok(3, "create $mailbox${sep}test3${sep}")
		it.ok(2, "create $mailbox${sep}test3${sep}test4${sep}")
		it.ok(2, "create $mailbox${sep}test3${sep}test4${sep}test5")
		it.ok(2, `list "" $mailbox${sep}%`,
			"* list () $sep $mailbox${sep}test", "* list () $sep $mailbox${sep}test2", "* list () $sep $mailbox${sep}test3",
			"! list () $sep $mailbox${sep}test3${sep}test4", "! list () $sep $mailbox${sep}test3${sep}test4${sep}test5")
		it.ok(3, `list "" $mailbox${sep}%`,
			"* list () $sep $mailbox${sep}test", "* list () $sep $mailbox${sep}test2", "* list () $sep $mailbox${sep}test3")

		it.ok(2, `list "" $mailbox${sep}%${sep}%`,
			"! list () $sep $mailbox${sep}test", "! list () $sep $mailbox${sep}test2", "! list () $sep $mailbox${sep}test3",
			"* list () $sep $mailbox${sep}test3${sep}test4", "! list () $sep $mailbox${sep}test3${sep}test4${sep}test5")

		all := []string{"* list () $sep $mailbox${sep}test", "* list () $sep $mailbox${sep}test2",
			"* list () $sep $mailbox${sep}test3", "* list () $sep $mailbox${sep}test3${sep}test4${sep}test5"}
		it.ok(3, `list "" $mailbox${sep}*`, all...)
		it.ok(3, `list $mailbox${sep} *`, all...)

		it.ok(2, `list "" $mailbox${sep}*test4`,
			"! list () $sep $mailbox${sep}test", "! list () $sep $mailbox${sep}test2", "! list () $sep $mailbox${sep}test3",
			"* list () $sep $mailbox${sep}test3${sep}test4", "! list () $sep $mailbox${sep}test3${sep}test4${sep}test5")
		it.ok(2, `list "" $mailbox${sep}*test*`, all...)

		it.ok(2, `list "" $mailbox${sep}%3${sep}%`, "* list () $sep $mailbox${sep}test3${sep}test4")
		it.ok(2, `list "" $mailbox${sep}%3${sep}%4`, "* list () $sep $mailbox${sep}test3${sep}test4")
		it.ok(2, `list "" $mailbox${sep}%t*4`, "* list () $sep $mailbox${sep}test3${sep}test4")

		it.ok(2, "delete $mailbox${sep}test2")
		it.ok(1, `list "" $mailbox${sep}*`, "! list () $sep $mailbox${sep}test2")

		it.ok(1, `list "" INBOX`, "* list () $inboxsep INBOX")
	})
}

// append: APPEND from a session with the mailbox selected, from another
// one with it selected, and from one without; EXISTS reaches every
// selecting session, STATUS counts, and \Recent goes to one session only.
func TestImaptestAppend(t *testing.T) {
	itReplay(t, itScript{conns: 3, state: itCreated}, func(it *itRun) {
		it.ok(1, "select $mailbox")
		it.ok(2, "select $mailbox")

		it.appendNext(1, "ok", `$mailbox (\seen \flagged)`, "* 1 exists")
		it.ok(2, "noop", "* 1 exists")
		it.ok(3, "status $mailbox (messages unseen recent)", "* status $mailbox (messages 1 unseen 0 recent 0)")
		it.ok(1, "fetch 1 (uid flags)", `* 1 fetch (uid $uid1 flags ($!unordered \seen \flagged))`)
		it.ok(2, "fetch 1 (uid flags)", `* 1 fetch (uid $uid1 flags ($!unordered \seen \flagged))`)

		it.appendNext(2, "ok", "", "* 2 exists")
		it.ok(1, "noop", "* 2 exists")
		it.ok(3, "status $mailbox (messages unseen recent)", "* status $mailbox (messages 2 unseen 1 recent 0)")
		itRecentOnce(it, 2)

		it.appendNext(3, "ok", "")
		it.ok(3, "status $mailbox (messages unseen)", "* status $mailbox (messages 3 unseen 2)")
		it.ok(2, "noop", "* 3 exists")
		it.ok(1, "noop", "* 3 exists")
		itRecentOnce(it, 3)
	})
}

// recentOnce fetches a message's flags on connections 1 and 2 and checks
// that at most one of them sees \Recent, what imaptest's state tracking
// checks after the script's FETCHes.
func itRecentOnce(it *itRun, seq int) {
	it.t.Helper()
	n := 0
	for conn := 1; conn <= 2; conn++ {
		for _, r := range it.ok(conn, "fetch "+strconv.Itoa(seq)+" (uid flags)") {
			if len(r) == 3 && strings.EqualFold(r[1].s, "FETCH") && strings.Contains(strings.ToLower(r[2].String()), `\recent`) {
				n++
			}
		}
	}
	if n > 1 {
		it.t.Errorf("message %d is \\Recent in both sessions", seq)
	}
}

// expunge: an EXPUNGE reaches the other session at its next command, and
// until then that session can still fetch the message.
func TestImaptestExpunge(t *testing.T) {
	itReplay(t, itScript{conns: 2}, func(it *itRun) {
		it.ok(1, "fetch * uid", "* $seq fetch (uid $uid)")
		it.ok(1, `store $seq flags \deleted`, `* $seq fetch (flags (\deleted \recent))`)
		it.ok(1, "expunge", "* $seq expunge")

		it.ok(2, "fetch $seq uid", "* $seq fetch (uid $uid)")
		it.ok(2, "noop", "* $seq expunge")
	})
}

// expunge2: after another session expunged messages, UID FETCH and UID
// STORE answer with the sequence numbers this session still has, until
// NOOP or CHECK tells it of the EXPUNGEs.
//
// The script gives no "messages:" header and needs at least four
// messages; imaptest's default.mbox has two, so five are appended here.
func TestImaptestExpunge2(t *testing.T) {
	itReplay(t, itScript{conns: 2, messages: 5}, func(it *itRun) {
		it.ok(1, "fetch 2,4 uid", "* 2 fetch (uid $uid2)", "* 4 fetch (uid $uid4)")

		// UID FETCH.
		it.ok(1, `store 1,3 +flags \deleted`)
		it.ok(1, "expunge", "* $1 expunge", "* $3 expunge")
		it.ok(2, "uid fetch $uid2,$uid4 uid", "* $2 fetch (uid $uid2)", "* $4 fetch (uid $uid4)")
		it.ok(2, "noop")

		// UID STORE.
		it.ok(1, `store 1 +flags \deleted`)
		it.ok(1, "expunge", "* 1 expunge")
		it.ok(2, `uid store $uid4 flags \seen`, `* $2 fetch (uid $uid4 flags (\seen))`)
		it.ok(2, "noop")

		// CHECK tells of EXPUNGEs as NOOP does.
		it.ok(1, `store 1 +flags \deleted`)
		it.ok(1, "expunge", "* 1 expunge")
		it.ok(2, "check", "* 1 expunge")
	})
}

// store: STORE FLAGS, +FLAGS, -FLAGS with system flags and keywords, seen
// by the other session, and two sessions changing different flags of one
// message without undoing each other's change.
//
// As with expunge2, the script needs more messages than default.mbox
// has; five are appended.
func TestImaptestStore(t *testing.T) {
	itReplay(t, itScript{conns: 2, messages: 5}, func(it *itRun) {
		seen := []string{`* 1 fetch (flags (\seen))`, `* 2 fetch (flags (\seen))`, `* 3 fetch (flags (\seen))`}
		it.ok(1, `store 1:3 flags (\seen)`, seen...)
		it.ok(2, "check", seen...)

		it.ok(1, `store 4 -flags \seen`)
		it.ok(1, `store 3 flags (\draft)`, `* 3 fetch (flags (\draft))`)

		it.ok(1, "store 2,4 +flags ($$hello $$world)",
			`* 2 fetch (flags (\seen $$hello $$world))`, `* 4 fetch (flags ($$hello $$world))`)

		it.ok(1, `store 1 +flags (\draft)`)
		it.ok(2, `store 1 -flags (\seen)`)
		it.ok(1, "check")
		it.ok(2, "check")
		it.ok(1, "fetch 1 flags", `* 1 fetch (flags (\draft))`)
		it.ok(2, "fetch 1 flags", `* 1 fetch (flags (\draft))`)
	})
}

// close: CLOSE expunges the \Deleted messages without sending EXPUNGE to
// the session that closes (RFC 9051 6.4.1); the other session hears of
// them. imaptest's close script is not among the stored copies we can
// read (a report of it running shows "store 1,3 +flags \deleted" as its
// first command); this follows the RFC.
func TestImaptestClose(t *testing.T) {
	itReplay(t, itScript{conns: 2, messages: 4}, func(it *itRun) {
		it.ok(1, "fetch 2,4 uid", "* 2 fetch (uid $uid2)", "* 4 fetch (uid $uid4)")
		it.ok(1, `store 1,3 +flags \deleted`)
		it.ok(1, "close", "! $ expunge")
		it.ok(2, "noop", "* $1 expunge", "* $3 expunge")
		it.ok(2, "uid fetch 1:* uid", "* 1 fetch (uid $uid2)", "* 2 fetch (uid $uid4)")
		it.ok(1, "select $mailbox", "* 2 exists")
		it.ok(1, "close")
		it.bad(1, "fetch 1 uid")
	})
}

// pipeline-connections: commands pipelined on one connection are all
// answered, with their untagged answers.
func TestImaptestPipelineConnections(t *testing.T) {
	itReplay(t, itScript{conns: 2, state: itAuth}, func(it *itRun) {
		it.pipe(1, []string{"create ${mailbox}", "create ${mailbox}2"}, []string{"ok", "ok"})
		it.pipe(2, []string{"status ${mailbox} (messages)", "status ${mailbox}2 (messages)"}, []string{"ok", "ok"},
			"* status ${mailbox} (messages 0)", "* status ${mailbox}2 (messages 0)")
	})
}
