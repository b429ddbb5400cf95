package imapd_test

import (
	"testing"

	"github.com/postdesk/postdesk/mailsvc/imapd"
)

// Replays of imaptest's SORT and THREAD scripts (RFC 5256, RFC 5957):
// sort-subject, sort-date, sort-addresses, sort-arrival, sort-size,
// thread, thread2 to thread8, thread-orderedsubject and
// thread-orderedsubject2, with their mboxes as imaptest has them.

func TestImaptestSortSubject(t *testing.T) {
	itReplay(t, itScript{caps: []string{"SORT"}, mbox: itSortSubjectMbox}, func(it *itRun) {
		it.ok(1, "sort (subject) us-ascii all", "* sort 9 10 1 14 3 5 11 6 15 2 7 12 13 8 4")
		it.ok(1, "sort (reverse subject) us-ascii all", "* sort 4 8 2 7 12 13 15 6 3 5 11 14 1 9 10")
		it.ok(1, "sort (subject reverse size) us-ascii all", "* sort 10 9 1 14 11 5 3 6 15 13 12 7 2 8 4")
	})
}

func TestImaptestSortDate(t *testing.T) {
	itReplay(t, itScript{caps: []string{"SORT"}, mbox: itSortDateMbox}, func(it *itRun) {
		it.ok(1, "sort (date) us-ascii all", "* sort 1 3 7 5 2 4 6")
		it.ok(1, "sort (reverse date) us-ascii all", "* sort 2 4 6 5 3 7 1")
		it.ok(1, "sort (date reverse size) us-ascii all", "* sort 1 7 3 5 6 4 2")
	})
}

func TestImaptestSortAddresses(t *testing.T) {
	itReplay(t, itScript{caps: []string{"SORT"}, mbox: itSortAddressesMbox}, func(it *itRun) {
		for _, k := range []string{"from", "to", "cc"} {
			it.ok(1, "sort ("+k+") us-ascii all", "* sort 3 1 2")
			it.ok(1, "sort (reverse "+k+") us-ascii all", "* sort 1 2 3")
			it.ok(1, "sort ("+k+" reverse arrival) us-ascii all", "* sort 3 2 1")
		}
	})
}

func TestImaptestSortArrival(t *testing.T) {
	itReplay(t, itScript{caps: []string{"SORT"}, mbox: itSortArrivalMbox}, func(it *itRun) {
		it.ok(1, "sort (arrival) us-ascii all", "* sort 1 3 2 4 5")
		it.ok(1, "sort (reverse arrival) us-ascii all", "* sort 2 4 5 3 1")
		it.ok(1, "sort (arrival reverse size) us-ascii all", "* sort 1 3 5 4 2")
	})
}

func TestImaptestSortSize(t *testing.T) {
	itReplay(t, itScript{caps: []string{"SORT"}, mbox: itSortSizeMbox}, func(it *itRun) {
		it.ok(1, "sort (size) us-ascii all", "* sort 1 8 2 6 3 5 4 7")
		it.ok(1, "sort (reverse size) us-ascii all", "* sort 4 7 3 5 2 6 1 8")
		it.ok(1, "sort (size reverse arrival) us-ascii all", "* sort 8 1 6 2 5 3 7 4")
	})
}

func TestImaptestThread(t *testing.T) {
	itReplay(t, itScript{caps: []string{"THREAD=REFERENCES"}, mbox: itThreadMbox}, func(it *itRun) {
		it.ok(1, "thread references us-ascii all", "* thread (3 2)(1)")
		it.ok(1, `store 1 +flags \deleted`)
		it.ok(1, "expunge")
		it.ok(1, "thread references us-ascii all", "* thread (2 1)")
	})
}

func TestImaptestThread2To4And6(t *testing.T) {
	for _, c := range []struct {
		name string
		mbox []itMsg
		want string
	}{
		{"thread2", itThread2Mbox, "* thread (1)(2)"},
		{"thread3", itThread3Mbox, "* THREAD (1 2)"},
		{"thread4", itThread4Mbox, "* THREAD (1 2)"},
		{"thread6", itThread6Mbox, "* THREAD ((1)(2))"},
	} {
		t.Run(c.name, func(t *testing.T) {
			itReplay(t, itScript{caps: []string{"THREAD=REFERENCES"}, mbox: c.mbox}, func(it *itRun) {
				it.ok(1, "thread references us-ascii all", c.want)
			})
		})
	}
}

func TestImaptestThread5(t *testing.T) {
	itReplay(t, itScript{caps: []string{"THREAD=REFERENCES"}, mbox: itThread5Mbox, state: itCreated}, func(it *itRun) {
		for i := 0; i < 4; i++ {
			it.appendNext(1, "ok", "")
		}
		it.ok(1, "select $mailbox")
		it.ok(1, "thread references us-ascii all", "* THREAD (1 (2 4)(3))")
		it.ok(1, `store 1,2 +flags \deleted`)
		it.ok(1, "expunge")
		it.ok(1, "thread references us-ascii all", "* THREAD (1)(2)")
		it.appendNext(1, "ok", "")
		it.ok(1, "thread references us-ascii all", "* THREAD (1)((2)(3))")
	})
}

func TestImaptestThread7(t *testing.T) {
	itReplay(t, itScript{caps: []string{"THREAD=REFERENCES"}, mbox: itThread7Mbox}, func(it *itRun) {
		it.ok(1, "thread references us-ascii all", "* thread (1 (2 3)(4))")
		it.ok(1, `store 2 +flags \deleted`)
		it.ok(1, "expunge")
		it.ok(1, "thread references us-ascii all", "* thread (1 3 2)")
	})
}

func TestImaptestThread8(t *testing.T) {
	itReplay(t, itScript{caps: []string{"THREAD=REFERENCES"}, mbox: itThread8Mbox, state: itCreated}, func(it *itRun) {
		it.appendNext(1, "ok", "")
		it.appendNext(1, "ok", "")
		it.ok(1, "select $mailbox")
		it.ok(1, "thread references us-ascii all", "* thread (1 2)")
		it.ok(1, `store 2 +flags \deleted`)
		it.ok(1, "expunge")
		it.ok(1, "thread references us-ascii all", "* thread (1)")
		it.appendNext(1, "ok", "")
		it.ok(1, "thread references us-ascii all", "* thread (1 2)")
	})
}

func TestImaptestThreadOrderedSubject(t *testing.T) {
	itReplay(t, itScript{caps: []string{"THREAD=ORDEREDSUBJECT"}, mbox: itSortSubjectMbox}, func(it *itRun) {
		it.ok(1, "thread orderedsubject us-ascii all", "* THREAD (1)(2 (7)(12)(13))(3 (5)(11))(4)(6)(8)(9 10)(14)(15)")
	})
	itReplay(t, itScript{caps: []string{"THREAD=ORDEREDSUBJECT"}, mbox: itThreadOrderedSubject2Mbox}, func(it *itRun) {
		it.ok(1, "thread orderedsubject us-ascii all", "* THREAD (4 (2)(8)(6))(3 (1)(7)(5))")
	})
}

// esort: SORT RETURN answers ESEARCH (RFC 5267 3.2).
func TestImaptestEsort(t *testing.T) {
	itReplay(t, itScript{caps: []string{"ESORT"}, messages: 5}, func(it *itRun) {
		it.ok(1, "sort return (min) (arrival) us-ascii 1:5", "* esearch (tag $tag) min 1")
		it.ok(1, "sort return (max) (arrival) us-ascii 1:5", "* esearch (tag $tag) max 5")
		it.ok(1, "sort return (all) (arrival) us-ascii 1:5", "* esearch (tag $tag) all 1:5")
		it.ok(1, "sort return (count) (arrival) us-ascii 1:5", "* esearch (tag $tag) count 5")
		// Our own: in sort order, by UID too. The messages are of 7 and
		// 8 bytes in turn.
		it.ok(1, "sort return (min max all) (reverse size) us-ascii 1:4", "* esearch (tag $tag) min 2 max 3 all 2,4,1,3")
		it.ok(1, "fetch 1:2 uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)")
		it.ok(1, "uid sort return (all) (reverse size) us-ascii 1:2", "* esearch (tag $tag) uid all $uid2,$uid1")
		it.ok(1, "sort return (all count) (arrival) us-ascii 6:*", "* esearch (tag $tag) all 5 count 1")
		it.ok(1, `sort return (all count) (arrival) us-ascii keyword nothere`, "* esearch (tag $tag) count 0")
	})
}

// Our own: UID SORT and UID THREAD answer UIDs, SORT takes search keys,
// DISPLAYFROM sorts by display name (RFC 5957), a bad charset is NO
// [BADCHARSET], bad keys BAD, and a folder past the cap is NO [LIMIT].
func TestSortThreadMore(t *testing.T) {
	itReplay(t, itScript{caps: []string{"SORT", "SORT=DISPLAY"}, mbox: itSortAddressesMbox}, func(it *itRun) {
		it.ok(1, "fetch 1:3 uid", "* 1 fetch (uid $uid1)", "* 2 fetch (uid $uid2)", "* 3 fetch (uid $uid3)")
		it.ok(1, "uid sort (from) utf-8 all", "* sort $uid3 $uid1 $uid2")
		it.ok(1, "sort (from) utf-8 not 1", "* sort 3 2")
		it.ok(1, "uid thread references utf-8 all", "* thread ($uid1)($uid2)($uid3)")
		// Display names: "foo bar" (1), else the address.
		it.ok(1, "sort (displayto) utf-8 all", "* sort 1 3 2")
		it.ok(1, "sort (reverse displayto) utf-8 all", "* sort 2 3 1")
		it.no(1, "sort (from) iso-8859-15 all")
		it.bad(1, "sort (bogus) utf-8 all")
		it.bad(1, "sort () utf-8 all")
		it.bad(1, "thread bogus utf-8 all")
		imapd.SetMaxSortMessages(it.srv, 2)
		it.cmd(1, "sort (from) utf-8 all", "no [limit]")
		it.cmd(1, "thread references utf-8 all", "no [limit]")
		it.ok(1, "sort (from) utf-8 1:2", "* sort 1 2")
	})
}

var itSortSubjectMbox = []itMsg{
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: a

1
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: C

2
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: b

3
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: _

4
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: [foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)

55
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: b (a)

66
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: Re: [FWD: c]

77
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: [xyz]

88
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `
9
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: =?iso-8859-1?q?_?=

10
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: Re: =?utf-8?q?b?=

11
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: =?iso-8859-1?q?RE:_C?=

12
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: =?us-ascii?b?UmU6IGM=?=

13

The subject is 'Re: c'.
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: Ad: Re: Ad: Re: Ad: x

14
`),
	itMailAt("22-Feb-2008 23:00:00 +0200", `Subject: re: [fwd: [fwd: re: [fwd: babylon]]]

15
`),
}

var itSortDateMbox = []itMsg{
	itMailAt("22-Feb-2008 23:00:00 +0200", `Date: Fri, 22 Feb 2008 00:00:00 +0200

1
`),
	itMailAt("22-Feb-2008 22:00:00 +0200", `Date: Fri, 22 Feb 2008 02:00:00 +0200

2
`),
	itMailAt("22-Feb-2008 21:00:00 +0200", `Date: Fri, 22 Feb 2008 01:00:00 +0200

33
`),
	itMailAt("22-Feb-2008 20:00:00 +0200", `Date: Fri, 22 Feb 2008 02:00:00 +0200

44
`),
	itMailAt("22-Feb-2008 01:30:23 +0200", `Subject: foo

55555
`),
	itMailAt("22-Feb-2008 18:00:00 +0200", `Date: Fri, 22 Feb 2008 02:00:00 +0200

6666
`),
	itMailAt("22-Feb-2008 01:00:00 +0200", `Subject: foo bar foo bar foo bar fooo

777
`),
}

var itSortAddressesMbox = []itMsg{
	itMailAt("22-Feb-2008 00:06:23 +0000", `From: user2@domain2.org
To: foo bar <user2@domain2.org>
Cc: user2@domain2.org (foo bar)

1
`),
	itMailAt("22-Feb-2008 01:06:23 +0000", `From: user2@domain1.org
To: user2@domain1.org
Cc: user2: blah@domain1.org;

2
`),
	itMailAt("22-Feb-2008 02:06:23 +0000", `From: user1@domain1.org
To: user1@domain1.org
Cc: user1@domain1.org

3
`),
}

var itSortArrivalMbox = []itMsg{
	itMailAt("22-Feb-2008 00:00:00 +0000", `
1
`),
	itMailAt("22-Feb-2008 02:00:00 +0000", `
2
`),
	itMailAt("22-Feb-2008 01:00:00 +0000", `
33
`),
	itMailAt("22-Feb-2008 02:00:00 +0000", `
44
`),
	itMailAt("22-Feb-2008 02:00:00 +0000", `
5555
`),
}

var itSortSizeMbox = []itMsg{
	itMailAt("22-Feb-2008 00:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

1
`),
	itMailAt("22-Feb-2008 01:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

22
`),
	itMailAt("22-Feb-2008 02:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

333
`),
	itMailAt("22-Feb-2008 03:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

4
4
`),
	itMailAt("22-Feb-2008 04:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

555
`),
	itMailAt("22-Feb-2008 05:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

66
`),
	itMailAt("22-Feb-2008 06:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

7777
`),
	itMailAt("22-Feb-2008 07:06:23 +0000", `Date: Sat, 24 Mar 2007 23:00:00 +0200

8
`),
}

var itThreadMbox = []itMsg{
	itMailAt("22-Feb-2008 17:06:23 +0000", `Message-ID: <a@b>

body
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <b@b>
References: <a@b> <c@b>

body
`),
	itMailAt("22-Feb-2008 16:06:25 +0000", `Message-Id: <c@b>
References: <b@b>

body
`),
}

var itThread2Mbox = []itMsg{
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <a@b>

body
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <a@b>

body
`),
}

var itThread3Mbox = []itMsg{
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <a@b>
Subject: foo

body
`),
	itMailAt("22-Feb-2008 15:06:24 +0000", `Message-Id: <a@b>
Subject: Re: foo

body
`),
}

var itThread4Mbox = []itMsg{
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <a@b>
Subject: foo

body
`),
	itMailAt("22-Feb-2008 15:06:24 +0000", `Message-Id: <b@b>
References: <c@b>
Subject: Re: foo

body
`),
}

var itThread5Mbox = []itMsg{
	itMailAt("22-Feb-2008 17:06:23 +0000", `Message-ID: <1@b>

body
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <2@b>
In-Reply-To: <1@b>

body
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <3@b>
In-Reply-To: <1@b>

body
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <4@b>
In-Reply-To: <2@b>

body
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <5@b>
In-Reply-To: <2@b>

body
`),
}

var itThread6Mbox = []itMsg{
	itMailAt("22-Feb-2008 15:06:23 +0000", `References: <a@b>

body
`),
	itMailAt("22-Feb-2008 15:06:24 +0000", `References: <a@b>

body
`),
}

var itThread7Mbox = []itMsg{
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <a@b>

body1
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <b@b>
References: <a@b>

body2
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <c@b>
References: <b@b>

body3
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <b@b>
References: <a@b>

body4 (2 duplicate)
`),
}

var itThread8Mbox = []itMsg{
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <a@b>

body1
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <b@b>
References: <a@b>

body2
`),
	itMailAt("22-Feb-2008 15:06:23 +0000", `Message-Id: <b@b>
References: <a@b>

body3
`),
}

var itThreadOrderedSubject2Mbox = []itMsg{
	itMailAt("22-Feb-2008 23:00:01 +0200", `Subject: a
Date: Fri, 22 Feb 2008 22:00:10 +0200

1
`),
	itMailAt("22-Feb-2008 23:00:02 +0200", `Date: Fri, 22 Feb 2008 22:00:09 +0200
Subject: b

2
`),
	itMailAt("22-Feb-2008 23:00:03 +0200", `Date: Fri, 22 Feb 2008 22:00:08 +0200
Subject: a

3
`),
	itMailAt("22-Feb-2008 23:00:04 +0200", `Date: Fri, 22 Feb 2008 22:00:07 +0200
Subject: b

4
`),
	itMailAt("22-Feb-2008 22:00:30 +0200", `Subject: a

5
`),
	itMailAt("22-Feb-2008 22:00:29 +0200", `Subject: b

6
`),
	itMailAt("22-Feb-2008 22:00:28 +0200", `Subject: a

7
`),
	itMailAt("22-Feb-2008 22:00:27 +0200", `Subject: b

8
`),
}
