package imapd_test

import (
	"testing"
)

// CONDSTORE and QRESYNC (RFC 7162). imaptest's release-2.3 scripts have
// one for them, esearch-condstore, replayed here; the rest are our own
// scripts in imaptest's form, run by the same replayer.

// esearch-condstore: the MODSEQ search key, and the MODSEQ an ESEARCH
// result carries: with MIN or MAX alone that of the message it names,
// else the highest of the matches (RFC 7162 3.1.5, RFC 4731 3.2).
func TestImaptestEsearchCondstore(t *testing.T) {
	itReplay(t, itScript{caps: []string{"ESEARCH", "CONDSTORE"}, messages: 4}, func(it *itRun) {
		// FETCH MODSEQ enables CONDSTORE in the selected state: the
		// folder's HIGHESTMODSEQ comes with it.
		it.ok(1, "fetch 1 modseq", "* ok [highestmodseq $highestmodseq]")
		it.ok(1, `store 1 +flags \seen`, "* 1 fetch (modseq ($modseq_seq1))")
		it.ok(1, `store 3 +flags \seen`, "* 3 fetch (modseq ($modseq_seq3))")
		it.ok(1, `store 2 +flags \seen`, "* 2 fetch (modseq ($modseq_seq2))")
		it.ok(1, `store 4 +flags \seen`, "* 4 fetch (modseq ($modseq_seq4))")
		it.ok(1, `search return (min) 1:3 modseq "/flags/\\seen" all 1`, "* esearch (tag $tag) min 1 modseq $modseq_seq1")
		it.ok(1, `search return (max) 1:3 modseq "/flags/\\seen" all 1`, "* esearch (tag $tag) max 3 modseq $modseq_seq3")
		it.ok(1, `search return () 1:3 modseq "/flags/\\seen" all 1`, "* esearch (tag $tag) all 1:3 modseq $modseq_seq2")
		it.ok(1, `search return (min max) 2:3 modseq "/flags/\\seen" all 1`, "* esearch (tag $tag) min 2 max 3 modseq $modseq_seq2")
		it.ok(1, `search return (all) 2:3 modseq "/flags/\\seen" all $modseq_seq3`, "* esearch (tag $tag) all 2:3 modseq $modseq_seq2")
		it.ok(1, `search return (all) 2:3 modseq "/flags/\\seen" all $modseq_seq2`, "* esearch (tag $tag) all 2 modseq $modseq_seq2")
		it.ok(1, `search return (all) 2:3 modseq "/flags/\\seen" all $modseq_seq4`, "* esearch (tag $tag)", "! esearch (tag $tag) $!extra all $")
	})
}

// condstore: SELECT (CONDSTORE), FETCH MODSEQ and CHANGEDSINCE, STORE
// UNCHANGEDSINCE with MODIFIED, STATUS HIGHESTMODSEQ, SEARCH MODSEQ, and
// another session's flag changes reported with their MODSEQ (RFC 7162
// 3.1).
func TestCondstore(t *testing.T) {
	itReplay(t, itScript{caps: []string{"CONDSTORE"}, conns: 2, messages: 3, state: itAppended}, func(it *itRun) {
		it.ok(1, "select $mailbox (condstore)", "* ok [highestmodseq $hms0]", "* 3 exists")
		it.ok(2, "select $mailbox", "* ok [highestmodseq $hms0]")
		it.ok(1, "fetch 1:3 (uid modseq)", "* 1 fetch (uid $uid1 modseq ($ms1))", "* 2 fetch (uid $uid2 modseq ($ms2))",
			"* 3 fetch (uid $uid3 modseq ($ms3))")
		it.ok(1, "status $mailbox (highestmodseq messages)", "* status $mailbox (highestmodseq $hms0 messages 3)")

		// Connection 2 changes message 2; connection 1 is told with the
		// new MODSEQ, and CHANGEDSINCE the old highest finds only it.
		it.ok(2, `store 2 +flags.silent (\flagged)`)
		it.ok(1, "noop", `* 2 fetch (flags (\flagged) modseq ($ms2b))`)
		it.ok(1, "fetch 1:* (flags) (changedsince $hms0)", `* 2 fetch (flags (\flagged) modseq ($ms2b))`,
			"! 1 fetch $", "! 3 fetch $")
		it.ok(1, "uid fetch 1:* (flags) (changedsince $ms2b)", "! $ fetch $")
		it.ok(1, "search modseq $ms2b", "* search 2 (modseq $ms2b)")
		it.ok(1, "uid search modseq $ms2b", "* search $uid2 (modseq $ms2b)")
		it.ok(1, "search modseq 1000000", "* search", "! search $ $!extra")

		// UNCHANGEDSINCE the old modseq fails for message 2 alone; the
		// others change and report their new modseq.
		it.cmd(1, `store 1:3 (unchangedsince $hms0) +flags (\seen)`, "ok [modified 2]",
			`* 1 fetch (flags (\seen) modseq ($ms1b))`, `* 3 fetch (flags (\seen) modseq ($ms1b))`, "! 2 fetch $")
		it.cmd(1, `uid store $uid2 (unchangedsince $hms0) -flags (\flagged)`, "ok [modified $uid2]")
		it.ok(1, "fetch 2 flags", `* 2 fetch (flags (\flagged) modseq ($ms2b))`)
		// UNCHANGEDSINCE 0 fails for every message (RFC 7162 3.1.3).
		it.cmd(1, `store 1 (unchangedsince 0) +flags (\draft)`, "ok [modified 1]")
		// With the current modseq it passes; .SILENT still reports the
		// modseq.
		it.cmd(1, `uid store $uid2 (unchangedsince $ms2b) +flags.silent (\answered)`, "ok",
			"* 2 fetch (uid $uid2 modseq ($ms2c))", "! 2 fetch (flags $)")
		it.ok(1, "status inbox (highestmodseq)", "* status inbox (highestmodseq $)")
		it.ok(1, "fetch 1:* (flags) (changedsince $ms1b)", `* 2 fetch (flags (\flagged \answered) modseq ($ms2c))`,
			"! 1 fetch $", "! 3 fetch $")

		// Syntax: modifiers a server without them would not take.
		it.bad(1, "fetch 1 (flags) (vanished)")
		it.bad(1, "fetch 1 (flags) (changedsince)")
		it.bad(1, `store 1 (unchangedsince x) +flags (\seen)`)
		it.bad(1, "select $mailbox (qresync (1 1))") // QRESYNC not enabled
	})
}

// qresync: ENABLE QRESYNC; VANISHED in place of EXPUNGE; SELECT (QRESYNC)
// with VANISHED (EARLIER) and the changed flags; UID FETCH (CHANGEDSINCE
// VANISHED) (RFC 7162 3.2).
func TestQresync(t *testing.T) {
	itReplay(t, itScript{caps: []string{"QRESYNC"}, conns: 2, messages: 5, state: itAppended}, func(it *itRun) {
		it.ok(1, "enable qresync", "* enabled qresync")
		it.ok(1, "select $mailbox", "* ok [uidvalidity $uidvalidity]", "* ok [highestmodseq $hms0]")
		it.ok(2, "select $mailbox")
		it.ok(1, "fetch 1:5 uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)",
			"* 4 fetch (uid $uid4)", "* 5 fetch (uid $uid5)")

		// Another session expunges 2 and 4: this one is told with
		// VANISHED, never EXPUNGE.
		it.ok(2, `store 2,4 +flags.silent (\deleted)`)
		it.ok(2, "expunge")
		it.ok(1, "noop", "* vanished $uid2,$uid4", "! $ expunge")
		// Its own expunge too.
		it.ok(1, `store 1 +flags.silent (\deleted)`)
		it.ok(1, "expunge", "* vanished $uid1", "! $ expunge")
		it.ok(1, "fetch 1:* (uid modseq)", "* 1 fetch (uid $uid3 modseq ($ms3))", "* 2 fetch (uid $uid5 modseq ($ms5))")
		it.ok(2, `store 3 +flags.silent (\seen)`) // message 3 of 3 is $uid5
		it.ok(1, "noop", `* 2 fetch (uid $uid5 flags (\seen) modseq ($ms5b))`)

		// A resync from the modseq before: what vanished, what changed.
		it.ok(1, "select $mailbox (qresync ($uidvalidity $hms0))", "* ok [closed]", "* 2 exists",
			"* vanished (earlier) $uid1:$uid2,$uid4", `* 2 fetch (uid $uid5 flags (\seen) modseq ($ms5b))`,
			"! 1 fetch $")
		// Known UIDs limit what VANISHED (EARLIER) names.
		it.ok(1, "select $mailbox (qresync ($uidvalidity $hms0 $uid3:$uid5))", "* vanished (earlier) $uid4",
			"! vanished (earlier) $uid1:$uid2,$uid4")
		// A resync from now tells of nothing; one for another UIDVALIDITY
		// neither.
		it.ok(1, "select $mailbox (qresync ($uidvalidity $ms5b))", "! vanished $", "! $ fetch $")
		it.ok(1, "select $mailbox (qresync (1$uidvalidity $hms0))", "! vanished $", "! $ fetch $")
		// With sequence match data (parsed; every expunge is known here).
		it.ok(1, "select $mailbox (qresync ($uidvalidity $hms0 1:$uid5 (1:2 $uid3,$uid5)))", "* vanished (earlier) $uid1:$uid2,$uid4")

		it.ok(1, "uid fetch 1:* (flags) (changedsince $hms0 vanished)", "* vanished (earlier) $uid1:$uid2,$uid4",
			`* 2 fetch (uid $uid5 flags (\seen) modseq ($ms5b))`, "! 1 fetch $")
		it.ok(1, "uid fetch $uid4:* (flags) (changedsince $hms0 vanished)", "* vanished (earlier) $uid4",
			"! vanished (earlier) $uid1:$uid2,$uid4")
		it.ok(1, "uid fetch 1:* (flags) (changedsince $ms5b vanished)", "! vanished $", "! $ fetch $")
		it.bad(1, "fetch 1:* (flags) (changedsince $hms0 vanished)") // not UID FETCH
		it.bad(1, "uid fetch 1:* (flags) (vanished)")                // no CHANGEDSINCE
	})
}
