package imapd

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func num(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

func flagsUpd(uid uint32, modseq int64, flags ...string) update {
	return update{kind: updFlags, uid: uid, modseq: modseq, flags: flags}
}

// kinds describes a queue's items, for comparison.
func kinds(items []update) []string {
	var out []string
	for _, u := range items {
		switch u.kind {
		case updExpunge:
			out = append(out, "expunge "+num(u.uid))
		case updExists:
			out = append(out, "exists "+num(uint32(len(u.uids))))
		case updFlags:
			out = append(out, "flags "+num(u.uid)+" "+strings.Join(u.flags, ","))
		case updMailboxFlags:
			out = append(out, "FLAGS "+strings.Join(u.keywords, ","))
		}
	}
	return out
}

// TestUpdateQueueMerges: a message's flag updates and the FLAGS updates
// merge into the first's place; expunges and arrivals keep their order.
func TestUpdateQueueMerges(t *testing.T) {
	var q updateQueue
	q.push(flagsUpd(1, 10, `\Seen`), 100)
	q.push(update{kind: updExpunge, uid: 2}, 100)
	q.push(update{kind: updMailboxFlags, keywords: []string{"a"}}, 100)
	q.push(flagsUpd(3, 11, `\Flagged`), 100)
	q.push(update{kind: updExists, uids: []uint32{7, 8, 9}}, 100)
	q.push(flagsUpd(1, 12, `\Seen`, `\Answered`), 100)
	q.push(update{kind: updMailboxFlags, keywords: []string{"a", "b"}}, 100)
	q.push(update{kind: updExpunge, uid: 3}, 100)
	q.push(flagsUpd(7, 13, "b"), 100)
	want := []string{`flags 1 \Seen,\Answered`, "expunge 2", "FLAGS a,b", `flags 3 \Flagged`, "exists 3", "expunge 3", "flags 7 b"}
	if got := kinds(q.items); !slices.Equal(got, want) {
		t.Fatalf("queue %q, want %q", got, want)
	}
	if q.size != 9 {
		t.Fatalf("size %d, want 9 (7 items, 3 arrivals in one)", q.size)
	}

	// FETCH: only up to the first EXPUNGE; what stays is still merged
	// into.
	if got := kinds(q.take(false)); !slices.Equal(got, want[:1]) {
		t.Fatalf("take before expunge %q", got)
	}
	q.push(flagsUpd(3, 14, `\Deleted`), 100)
	q.push(update{kind: updMailboxFlags, keywords: []string{"a", "b", "c"}}, 100)
	q.refresh(flagsUpd(7, 15, "b", "c"))
	q.refresh(flagsUpd(8, 16, "c")) // nothing queued for 8: the session's own change stays its own
	want = []string{"expunge 2", "FLAGS a,b,c", `flags 3 \Deleted`, "exists 3", "expunge 3", "flags 7 b,c"}
	if got := kinds(q.take(true)); !slices.Equal(got, want) {
		t.Fatalf("take %q, want %q", got, want)
	}
	if len(q.items) != 0 || q.size != 0 || len(q.flagAt) != 0 || q.kwAt != 0 {
		t.Fatalf("queue not empty after take: %+v", q)
	}
}

// TestUpdateQueueOverflow: past the limit the queue is dropped and the
// session marked for a resync; nothing is queued until it has been done.
func TestUpdateQueueOverflow(t *testing.T) {
	const limit = 10000
	var q updateQueue
	// A busy folder's flag changes merge per message: many rounds over
	// the same messages stay within the limit.
	for round := range 50 {
		for uid := uint32(1); uid <= 5000; uid++ {
			q.push(flagsUpd(uid, int64(round), "k"+num(uint32(round))), limit)
		}
	}
	if q.resync || len(q.items) != 5000 || q.size != 5000 {
		t.Fatalf("after 250,000 flag changes of 5,000 messages: resync %v, %d items", q.resync, len(q.items))
	}
	// Arrivals count one each.
	q.push(update{kind: updExists, uids: make([]uint32, 5000)}, limit)
	if q.resync || q.size != limit {
		t.Fatalf("at the limit: resync %v, size %d", q.resync, q.size)
	}
	q.push(update{kind: updExpunge, uid: 1}, limit)
	if !q.resync || q.items != nil || q.size != 0 || q.flagAt != nil {
		t.Fatalf("past the limit: resync %v, %d items, size %d", q.resync, len(q.items), q.size)
	}
	for uid := uint32(1); uid <= 20000; uid++ {
		q.push(update{kind: updExpunge, uid: uid}, limit)
		q.push(flagsUpd(uid, 1), limit)
	}
	if q.items != nil || q.size != 0 {
		t.Fatalf("queued %d while awaiting a resync", len(q.items))
	}
	if got := q.take(true); len(got) != 0 {
		t.Fatalf("took %d while awaiting a resync", len(got))
	}
}
