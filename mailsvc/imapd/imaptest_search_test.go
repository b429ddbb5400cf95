package imapd_test

import (
	"fmt"
	"testing"
	"time"
)

// Replays of imaptest's SEARCH scripts: search-body, search-date,
// search-header, search-intdate, search-sets, search-size, nil and
// esearch. (search-flags and search-addresses are in imaptest_test.go and
// imaptest_groups_test.go.)

// search-body: TEXT searches header and body, BODY the body only, whole
// words and parts of words. imaptest's search-body.mbox is not among the
// stored copies we can read; these messages give the answers its script
// expects.
func TestImaptestSearchBody(t *testing.T) {
	mbox := []itMsg{
		itMail("Subject: test\n\nasdfghjkl zxcvbnm\n"),
		itMail("Subject: qwertyuiop\n\nasdfghjkl\n"),
		itMail("X-Header: qwertyuiop\n\nzxcvbnm\n"),
		itMail("Subject: x\n\nzxcvbnm qwertyuiop\n"),
	}
	itReplay(t, itScript{mbox: mbox}, func(it *itRun) {
		it.soft = true
		for _, c := range [][2]string{
			{"text asdfghjkl", "1 2"}, {"text zxcvbnm", "1 3 4"}, {"text qwertyuiop", "2 3 4"},
			{"body asdfghjkl", "1 2"}, {"body zxcvbnm", "1 3 4"}, {"body qwertyuiop", "4"},
			{"text sdfghjk", "1 2"}, {"text xcvbn", "1 3 4"}, {"text wertyuio", "2 3 4"},
			{"body sdfghjk", "1 2"}, {"body xcvbn", "1 3 4"}, {"body wertyuio", "4"},
		} {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
	})
}

// itDSTTimes are the times of imaptest's search-date and search-intdate
// mboxes: around the changes from EET (+0200) to EEST (+0300) and back
// in 2007, each in the zone in force then.
var itDSTTimes = []string{
	"24-Mar-2007 23:00:00 +0200", "25-Mar-2007 00:00:00 +0200", "25-Mar-2007 01:00:00 +0200",
	"25-Mar-2007 02:00:00 +0200", "25-Mar-2007 04:00:00 +0300", "25-Mar-2007 23:00:00 +0300",
	"26-Mar-2007 00:00:00 +0300", "27-Oct-2007 23:00:00 +0300", "28-Oct-2007 00:00:00 +0300",
	"28-Oct-2007 01:00:00 +0300", "28-Oct-2007 02:00:00 +0300", "28-Oct-2007 03:00:00 +0300",
	"28-Oct-2007 03:00:00 +0200", "28-Oct-2007 04:00:00 +0200", "28-Oct-2007 23:00:00 +0200",
	"29-Oct-2007 00:00:00 +0200",
}

// dateSearches are the searches of search-date (SENT*) and
// search-intdate (BEFORE, ON, SINCE): dates compare by the day of the
// date as written, whatever the zone (RFC 9051 6.4.4).
func itDateSearches(before, on, since string) [][2]string {
	return [][2]string{
		{before + " 24-mar-2007", ""}, {before + " 25-mar-2007", "1"},
		{before + " 26-mar-2007", "1 2 3 4 5 6"}, {before + " 27-mar-2007", "1 2 3 4 5 6 7"},
		{on + " 23-mar-2007", ""}, {on + " 24-mar-2007", "1"},
		{on + " 25-mar-2007", "2 3 4 5 6"}, {on + " 26-mar-2007", "7"},
		{"1:7 " + since + " 24-mar-2007", "1 2 3 4 5 6 7"}, {"1:7 " + since + " 25-mar-2007", "2 3 4 5 6 7"},
		{"1:7 " + since + " 26-mar-2007", "7"}, {"1:7 " + since + " 27-mar-2007", ""},

		{"8:* " + before + " 27-oct-2007", ""}, {"8:* " + before + " 28-oct-2007", "8"},
		{"8:* " + before + " 29-oct-2007", "8 9 10 11 12 13 14 15"},
		{"8:* " + before + " 30-oct-2007", "8 9 10 11 12 13 14 15 16"},
		{"8:* " + on + " 26-oct-2007", ""}, {"8:* " + on + " 27-oct-2007", "8"},
		{"8:* " + on + " 28-oct-2007", "9 10 11 12 13 14 15"}, {"8:* " + on + " 29-oct-2007", "16"},
		{"8:* " + since + " 27-oct-2007", "8 9 10 11 12 13 14 15 16"},
		{"8:* " + since + " 28-oct-2007", "9 10 11 12 13 14 15 16"},
		{"8:* " + since + " 29-oct-2007", "16"}, {"8:* " + since + " 30-oct-2007", ""},
	}
}

// search-date: SENTBEFORE, SENTON and SENTSINCE use the Date header. The
// messages' INTERNALDATE is elsewhere (2008), so that a server using it
// would fail.
func TestImaptestSearchDate(t *testing.T) {
	var mbox []itMsg
	for _, d := range itDSTTimes {
		tm, err := time.Parse("02-Jan-2006 15:04:05 -0700", d)
		if err != nil {
			t.Fatal(err)
		}
		mbox = append(mbox, itMail("Date: "+tm.Format(time.RFC1123Z)+"\n\nbody\n"))
	}
	itReplay(t, itScript{mbox: mbox}, func(it *itRun) {
		it.soft = true
		for _, c := range itDateSearches("sentbefore", "senton", "sentsince") {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
	})
}

// search-intdate: BEFORE, ON and SINCE use INTERNALDATE, as APPEND gave
// it, in its own zone (the script assumes the server keeps the zone the
// date was appended with).
func TestImaptestSearchIntdate(t *testing.T) {
	var mbox []itMsg
	for _, d := range itDSTTimes {
		mbox = append(mbox, itMailAt(d, "\nbody\n"))
	}
	itReplay(t, itScript{mbox: mbox}, func(it *itRun) {
		it.soft = true
		for _, c := range itDateSearches("before", "on", "since") {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
		// Not in the script: FETCH gives each INTERNALDATE back in the
		// zone APPEND gave it in.
		var want []string
		for i, d := range itDSTTimes {
			want = append(want, fmt.Sprintf(`* %d fetch (internaldate "%s")`, i+1, d))
		}
		it.ok(1, "fetch 1:* internaldate", want...)
	})
}

// search-header: SUBJECT and HEADER match substrings; HEADER with an empty
// string matches the messages that have the field.
func TestImaptestSearchHeader(t *testing.T) {
	mbox := []itMsg{
		itMail("Subject: hello beautiful world\n\nbody\n"),
		itMail("X-Extra: hello beautiful header\n\nbody\n"),
	}
	itReplay(t, itScript{mbox: mbox}, func(it *itRun) {
		it.soft = true
		// Not specified by the RFC: it need only succeed.
		it.ok(1, `search subject ""`)
		for _, c := range [][2]string{
			{"subject hello", "1"}, {"subject beautiful", "1"}, {"subject world", "1"},
			{`subject "hello beautiful"`, "1"}, {`subject "hello beautiful world"`, "1"},
			{`subject "eautiful worl"`, "1"},
			{`header subject ""`, "1"}, {`not header subject ""`, "2"},
			{`header x-extra ""`, "2"}, {`not header x-extra ""`, "1"},
			{"header x-extra hello", "2"}, {`header x-extra "hello beautiful"`, "2"},
			{`header x-extra "eautiful head"`, "2"},
		} {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
	})
}

// search-sets: sequence and UID sets in SEARCH after an EXPUNGE: ranges
// either way round, "*", ranges past the end, NOT and OR of sets.
func TestImaptestSearchSets(t *testing.T) {
	itReplay(t, itScript{messages: 6}, func(it *itRun) {
		it.soft = true
		it.ok(1, "uid search all", "* search $uid1 $uid2 $uid3 $uid4 $uid5 $uid6")
		it.ok(1, "status $mailbox (uidnext)", "* status $mailbox (uidnext $uidnext)")

		it.ok(1, `store 2 +flags \deleted`)
		it.ok(1, "expunge", "* 2 expunge")

		for _, c := range [][2]string{
			{"search all", "1 2 3 4 5"},
			{"uid search all", "$uid1 $uid3 $uid4 $uid5 $uid6"},
			{"search 1:3,5", "1 2 3 5"}, {"search 4:2", "2 3 4"},
			{"search uid $uid1:$uid3,$uid5", "1 2 4"}, {"search uid $uid4:$uid2", "2 3"},
			{"search 1:3 not uid $uid3", "1 3"}, {"search not 2,4", "1 3 5"}, {"search or 1 uid $uid3", "1 2"},
			{"search *", "5"}, {"search uid *", "5"}, {"search 6:*", "5"}, {"search *:6", "5"},
			{"search uid $uidnext:*", "5"}, {"search *:3", "3 4 5"}, {"search 1,4,*", "1 4 5"},
		} {
			it.ok(1, c[0], itSearchLine(c[1]))
		}
	})
}

// search-size: SMALLER and LARGER compare RFC822.SIZE, not the size of a
// file with bare LFs: messages 3 and 4 are the same size with LF line
// ends but not with CRLF.
func TestImaptestSearchSize(t *testing.T) {
	mbox := []itMsg{
		itMail("Subject: x\n\na\n"),
		itMail("Subject: x\n\nab\n"),
		itMail("Subject: x\n\nabcdef\n"),
		itMail("Subject: x\n\nab\ncde\n"),
	}
	itReplay(t, itScript{mbox: mbox}, func(it *itRun) {
		it.soft = true
		it.ok(1, "fetch 1:4 rfc822.size", "* 3 fetch (rfc822.size $size)")
		for _, c := range [][2]string{
			{"smaller $size", "1 2"}, {"larger $size", "4"},
			{"not smaller $size", "3 4"}, {"not larger $size", "1 2 3"},
			{"not smaller $size not larger $size", "3"}, {"or smaller $size larger $size", "1 2 4"},
		} {
			it.ok(1, "search "+c[0], itSearchLine(c[1]))
		}
	})
}

// nil: NIL as an astring is the string "NIL" (RFC 9051 9), in SEARCH and
// in LIST. imaptest's nil.mbox is not among the stored copies we can
// read; message 1 here has "nil" in its subject and body.
func TestImaptestNil(t *testing.T) {
	mbox := []itMsg{itMail("Subject: nil\n\nnil\n"), itMail("Subject: x\n\nbody\n")}
	itReplay(t, itScript{mbox: mbox}, func(it *itRun) {
		it.ok(1, "search subject NIL", "* search 1")
		it.ok(1, "search body nil", "* search 1")
		it.ok(1, `list "" NIL`)
	})
}

// esearch: SEARCH RETURN (MIN MAX ALL COUNT) (RFC 4731) by sequence number
// and UID, with a gap in the UIDs, and with nothing found.
func TestImaptestESearch(t *testing.T) {
	var mbox []itMsg
	for i := 1; i <= 7; i++ {
		mbox = append(mbox, itMailAt("22-Feb-2008 17:06:2"+string(rune('2'+i))+" +0000",
			"Date: Sat, 24 Mar 2007 23:00:00 +0200\nFrom: user@domain.com\n\n"+string(rune('0'+i))+"\n"))
	}
	itReplay(t, itScript{caps: []string{"ESEARCH"}, mbox: mbox}, func(it *itRun) {
		it.ok(1, `store 4 +flags \deleted`)
		it.ok(1, "expunge")

		it.ok(1, "search return (all) all", "* esearch (tag $tag) all 1:6")
		it.ok(1, "search return () all", "* esearch (tag $tag) all 1:6")
		it.ok(1, "search return (min) all", "* esearch (tag $tag) min 1")
		it.ok(1, "search return (max) all", "* esearch (tag $tag) max 6")
		it.ok(1, "search return (count) all", "* esearch (tag $tag) count 6")

		it.ok(1, "fetch 1:* uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)",
			"* 4 fetch (uid $uid4)", "* 5 fetch (uid $uid5)", "* 6 fetch (uid $uid6)")
		it.ok(1, "uid search return (all) all", "* esearch (tag $tag) uid all $uid1:$uid3,$uid4:$uid6")
		it.ok(1, "uid search return () all", "* esearch (tag $tag) uid all $uid1:$uid3,$uid4:$uid6")
		it.ok(1, "uid search return (min) all", "* esearch (tag $tag) uid min $uid1")
		it.ok(1, "uid search return (max) all", "* esearch (tag $tag) uid max $uid6")
		it.ok(1, "uid search return (count) all", "* esearch (tag $tag) uid count 6")

		it.ok(1, `store 2,4 +flags \seen`)
		it.ok(1, "uid search return (all) seen", "* esearch (tag $tag) uid all $uid2,$uid4")
		it.ok(1, "uid search return () seen", "* esearch (tag $tag) uid all $uid2,$uid4")
		it.ok(1, "uid search return (min) seen", "* esearch (tag $tag) uid min $uid2")
		it.ok(1, "uid search return (max) seen", "* esearch (tag $tag) uid max $uid4")
		it.ok(1, "uid search return (count) seen", "* esearch (tag $tag) uid count 2")

		it.ok(1, "search return () 1000", "* esearch (tag $tag)")
		it.ok(1, "search return (min) 1000", "* esearch (tag $tag)")
		it.ok(1, "search return (max) 1000", "* esearch (tag $tag)")
		it.ok(1, "search return (count) 1000", "* esearch (tag $tag) count 0")

		it.ok(1, "uid search return () 1000", "* esearch (tag $tag) uid")
		it.ok(1, "uid search return (min) 1000", "* esearch (tag $tag) uid")
		it.ok(1, "uid search return (max) 1000", "* esearch (tag $tag) uid")
		it.ok(1, "uid search return (count) 1000", "* esearch (tag $tag) uid count 0")
	})
}
