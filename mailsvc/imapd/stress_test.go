package imapd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/store"
)

// TestStress is a bounded form of Dovecot imaptest's stress mode: clients
// on john's INBOX send random commands (APPEND, STORE and UID STORE of
// system flags and keywords, FETCH, SEARCH, EXPUNGE, UID EXPUNGE, NOOP,
// IDLE, SELECT, a few pipelined) while messages are delivered, and each
// client's tracker (stress_client_test.go) checks every response against
// what its connection was told before. At the end each client's view,
// synced by NOOP, and a fresh session's must be the store's.
func TestStress(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		runStress(t, e, stressSize(0))
	})
}

// TestStressResync is TestStress with update queues of a few entries, so
// that sessions overflow theirs and resync (selected.resync) all the
// time.
func TestStressResync(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		runStress(t, e, stressSize(6))
	})
}

type stressConfig struct {
	clients    int
	ops        int           // commands per client, at most
	limit      time.Duration // for all clients' commands
	deliveries int
	maxPending int // the hubs' update queue limit; 0: the server's
}

func stressSize(maxPending int) stressConfig {
	if testing.Short() {
		return stressConfig{clients: 4, ops: 60, limit: 5 * time.Second, deliveries: 30, maxPending: maxPending}
	}
	return stressConfig{clients: 8, ops: 300, limit: 20 * time.Second, deliveries: 150, maxPending: maxPending}
}

func runStress(t *testing.T, e *env, cfg stressConfig) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	sh := newStShared()
	const initial = 10
	for i := range initial {
		if _, err := stressDeliver(e, sh, i); err != nil {
			t.Fatal(err)
		}
	}
	conns := make([]*stConn, cfg.clients)
	for i := range conns {
		c, err := stressLogin(e, sh, fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		conns[i] = c
	}
	setPending := func() {
		if cfg.maxPending > 0 {
			imapd.SetMaxPending(e.srv, cfg.maxPending)
		}
	}
	setPending()

	// Delivery, as SMTP would: e.deliver's steps, with errors returned
	// rather than t.Fatal outside the test's goroutine.
	type delivResult struct {
		n, resyncs int // deliveries; sessions seen awaiting a resync
		err        error
	}
	stop := make(chan struct{})
	delivered := make(chan delivResult, 1)
	go func() {
		rng := rand.New(rand.NewPCG(seed, 1<<20))
		var res delivResult
		defer func() { delivered <- res }()
		for res.n < cfg.deliveries {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(5+rng.IntN(40)) * time.Millisecond):
			}
			setPending() // for a hub started anew by a re-SELECT
			res.resyncs += resyncing(e.srv)
			if _, res.err = stressDeliver(e, sh, initial+res.n); res.err != nil {
				return
			}
			res.n++
		}
	}()

	start := time.Now()
	deadline := start.Add(cfg.limit)
	errs := make([]error, len(conns))
	ops := make([]int, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			s := &stresser{c: c, sh: c.t.sh, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
			for ops[i] < cfg.ops && time.Now().Before(deadline) {
				if err := s.op(); err != nil {
					errs[i] = err
					return
				}
				ops[i]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	d := <-delivered
	if d.err != nil {
		t.Errorf("delivery: %v", d.err)
	}
	for _, err := range errs {
		if err != nil {
			t.Errorf("%v", err)
		}
	}
	stats := map[string]int{}
	for _, c := range conns {
		for k, v := range c.t.stats {
			stats[k] += v
		}
	}
	t.Logf("%d clients, commands %v, %d deliveries, in %v; untagged responses %v; sessions seen awaiting a resync: %d",
		len(conns), ops, d.n, elapsed.Round(time.Millisecond), stats, d.resyncs)
	stressFinal(t, e, sh, conns, errs)
	for _, c := range conns {
		reportSoft(t, c.t)
	}
}

// TestStressSelectUIDNext is the stress test's most frequent finding
// alone: SELECT while messages arrive must not give a UIDNEXT above the
// UID of a message it leaves out of its EXISTS (RFC 9051 2.3.1.1: the
// UIDNEXT is the UID a new message will get). A client that keeps
// UIDNEXT to fetch what is new next time would never fetch that message.
func TestStressSelectUIDNext(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		sh := newStShared()
		c, err := stressLogin(e, sh, "c")
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if _, err := stressDeliver(e, sh, n); err != nil {
					done <- err
					return
				}
			}
		}()
		deadline := time.Now().Add(5 * time.Second)
		selects := 0
		for ; selects < 300 && time.Now().Before(deadline) && len(c.t.soft) == 0; selects++ {
			for _, cmd := range []string{"SELECT INBOX", "NOOP", "FETCH 1:* (UID)"} {
				if _, err := c.run(cmd, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d SELECTs", selects)
		reportSoft(t, c.t)
	})
}

// stressLogin connects, logs in as john and selects INBOX.
func stressLogin(e *env, sh *stShared, name string) (*stConn, error) {
	c, err := stDial(e.tlsAddr, e.clientTLS, name, sh)
	if err != nil {
		return nil, err
	}
	if _, err := c.run("LOGIN john@example.test "+quote(password), nil); err != nil {
		c.close()
		return nil, err
	}
	if _, err := c.run("SELECT INBOX", nil); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// stressMessage is a message with a header of its own, so that its size
// and header tell it apart.
func stressMessage(from string, n, lines int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s <%s@example.test>\r\nTo: John <john@example.test>\r\nSubject: stress %s #%d\r\n", from, from, from, n)
	fmt.Fprintf(&b, "Message-ID: <%s.%d@stress.test>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\n", from, n)
	for i := range lines {
		fmt.Fprintf(&b, "line %d of %s #%d\r\n", i, from, n)
	}
	return b.String()
}

// stressDeliver delivers message n to john's INBOX as e.deliver does and
// notes its size and header.
func stressDeliver(e *env, sh *stShared, n int) (uint32, error) {
	msg := stressMessage("d", n, 1+n%7)
	ctx := context.Background()
	p, err := e.st.Blobs().Create(ctx)
	if err != nil {
		return 0, fmt.Errorf("create blob: %w", err)
	}
	if _, err := io.WriteString(p, msg); err != nil {
		p.Abort()
		return 0, fmt.Errorf("write blob: %w", err)
	}
	res, err := e.st.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: e.john}}})
	if err != nil {
		return 0, fmt.Errorf("deliver %d: %w", n, err)
	}
	if res.Errs[0] != nil {
		return 0, fmt.Errorf("deliver %d: %w", n, res.Errs[0])
	}
	u := res.UIDs[0]
	size, header := strconv.Itoa(len(msg)), stHeader(msg)
	if err := sh.note(u, &size, &header, fmt.Sprintf("delivery %d", n)); err != nil {
		return u, err
	}
	sh.addDelivered(u)
	return u, nil
}

// stresser picks a client's random commands.
type stresser struct {
	c   *stConn
	sh  *stShared
	rng *rand.Rand
	n   int // messages appended
}

func (s *stresser) op() error {
	t := s.c.t
	w := s.rng.IntN(100)
	if len(t.slots) == 0 && w >= 10 && w < 77 {
		w = s.rng.IntN(10) // nothing to name a message of: append
	}
	switch {
	case w < 10:
		return s.append()
	case w < 22:
		return s.storeShared()
	case w < 32:
		return s.storeOwned()
	case w < 35:
		return s.storeDelivered()
	case w < 39:
		return s.storeDeleted()
	case w < 46:
		return s.run("FETCH 1:* (UID FLAGS)", t.knownUIDs())
	case w < 55:
		set, seqs := s.seqSet()
		return s.run("FETCH "+set+" (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])", s.uidsOf(seqs))
	case w < 59:
		return s.uidFetch()
	case w < 63:
		return s.search()
	case w < 68:
		return s.searchOwned()
	case w < 70:
		return s.run("UID SEARCH ALL", t.knownUIDs())
	case w < 74:
		return s.run("EXPUNGE", nil)
	case w < 77:
		return s.uidExpunge()
	case w < 82:
		return s.run([]string{"NOOP", "CHECK"}[s.rng.IntN(2)], nil)
	case w < 90:
		return s.c.idle(time.Duration(20+s.rng.IntN(60)) * time.Millisecond)
	case w < 92:
		return s.run("SELECT INBOX", nil)
	default:
		return s.pipeline()
	}
}

// run runs a command that should answer for the messages of expect.
func (s *stresser) run(text string, expect []uint32) error {
	_, err := s.c.run(text, func(c *stCmd) { c.expect = expect })
	return err
}

// pick returns k distinct flags of from, at random.
func (s *stresser) pick(from []string, k int) []string {
	p := s.rng.Perm(len(from))
	out := make([]string, 0, k)
	for _, i := range p[:min(k, len(from))] {
		out = append(out, from[i])
	}
	return out
}

// seqSet returns a random valid sequence set and the numbers it names.
func (s *stresser) seqSet() (string, []int) {
	n := len(s.c.t.slots)
	a, b := 1+s.rng.IntN(n), 1+s.rng.IntN(n)
	lo, hi := min(a, b), max(a, b)
	span := func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	switch s.rng.IntN(6) {
	case 0:
		return strconv.Itoa(a), []int{a}
	case 1:
		return fmt.Sprintf("%d:%d", a, b), span(lo, hi) // either order
	case 2:
		c := 1 + s.rng.IntN(n)
		return fmt.Sprintf("%d:%d,%d", lo, hi, c), append(span(lo, hi), c)
	case 3:
		return "*", []int{n}
	case 4:
		return fmt.Sprintf("%d:*", a), span(a, n)
	default:
		return "1:*", span(1, n)
	}
}

// uidsOf returns the known UIDs of sequence numbers.
func (s *stresser) uidsOf(seqs []int) []uint32 {
	var out []uint32
	for _, n := range seqs {
		if u := s.c.t.slots[n-1].uid; u != 0 && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func (s *stresser) append() error {
	s.n++
	lines := 1 + s.rng.IntN(20)
	if s.rng.IntN(10) == 0 {
		lines = 300
	}
	msg := stressMessage(s.c.t.name, s.n, lines)
	flags := append(s.pick(stOwnerFlags, s.rng.IntN(3)), s.pick(stSharedFlags, s.rng.IntN(3))...)
	return s.c.appendMsg(strings.Join(flags, " "), msg)
}

// storeShared adds or removes shared flags on a random set.
func (s *stresser) storeShared() error {
	set, seqs := s.seqSet()
	op := []string{"+FLAGS", "-FLAGS"}[s.rng.IntN(2)]
	silent := s.rng.IntN(5) == 0
	var expect []uint32
	if silent {
		op += ".SILENT"
	} else {
		expect = s.uidsOf(seqs)
	}
	flags := s.pick(stSharedFlags, 1+s.rng.IntN(3))
	return s.run(fmt.Sprintf("STORE %s %s (%s)", set, op, strings.Join(flags, " ")), expect)
}

// storeOwned changes the owner flags of a message the client appended;
// the tracker knows what they are after it.
func (s *stresser) storeOwned() error {
	t := s.c.t
	var cands []uint32
	for _, u := range t.knownUIDs() {
		if _, ok := t.owned[u]; ok {
			cands = append(cands, u)
		}
	}
	if len(cands) == 0 {
		return s.append()
	}
	u := cands[s.rng.IntN(len(cands))]
	op := []string{"+FLAGS", "-FLAGS", "FLAGS"}[s.rng.IntN(3)]
	flags := s.pick(stOwnerFlags, 1+s.rng.IntN(3))
	if op == "FLAGS" {
		flags = append(s.pick(stOwnerFlags, s.rng.IntN(4)), s.pick(stSharedFlags, s.rng.IntN(3))...)
	}
	expect := []uint32{u}
	if s.rng.IntN(6) == 0 {
		op += ".SILENT"
		expect = nil
	}
	return s.run(fmt.Sprintf("UID STORE %d %s (%s)", u, op, strings.Join(flags, " ")), expect)
}

// storeDelivered replaces the flags of a delivered message, which nobody
// owns, with shared ones.
func (s *stresser) storeDelivered() error {
	known := map[uint32]bool{}
	for _, u := range s.c.t.knownUIDs() {
		known[u] = true
	}
	var cands []uint32
	for _, u := range s.sh.deliveredUIDs() {
		if known[u] {
			cands = append(cands, u)
		}
	}
	if len(cands) == 0 {
		return s.storeShared()
	}
	u := cands[s.rng.IntN(len(cands))]
	flags := s.pick(stSharedFlags, s.rng.IntN(4))
	return s.run(fmt.Sprintf("UID STORE %d FLAGS (%s)", u, strings.Join(flags, " ")), []uint32{u})
}

// storeDeleted marks one or two messages \Deleted.
func (s *stresser) storeDeleted() error {
	n := len(s.c.t.slots)
	a := 1 + s.rng.IntN(n)
	set, seqs := strconv.Itoa(a), []int{a}
	if a < n && s.rng.IntN(3) == 0 {
		set, seqs = fmt.Sprintf("%d:%d", a, a+1), []int{a, a + 1}
	}
	return s.run(fmt.Sprintf(`STORE %s +FLAGS (\Deleted)`, set), s.uidsOf(seqs))
}

func (s *stresser) uidFetch() error {
	known := s.c.t.knownUIDs()
	if len(known) == 0 {
		return s.run("FETCH 1:* (UID FLAGS)", nil)
	}
	a, b := known[s.rng.IntN(len(known))], known[s.rng.IntN(len(known))]
	lo, hi := min(a, b), max(a, b)
	set := fmt.Sprintf("%d:%d", a, b)
	if s.rng.IntN(3) == 0 {
		set, hi = fmt.Sprintf("%d:*", lo), known[len(known)-1]
	}
	var expect []uint32
	for _, u := range known {
		if u >= lo && u <= hi {
			expect = append(expect, u)
		}
	}
	return s.run("UID FETCH "+set+" (FLAGS RFC822.SIZE)", expect)
}

func (s *stresser) search() error {
	kw := fmt.Sprintf("$k%d", 1+s.rng.IntN(20))
	set, _ := s.seqSet()
	q := []string{"KEYWORD " + kw, "DELETED", "UNSEEN", "FLAGGED NOT KEYWORD " + kw, set, "OR SEEN KEYWORD " + kw}[s.rng.IntN(6)]
	return s.run("SEARCH "+q, nil)
}

// searchOwned searches an owner keyword by UID; the tracker knows which
// of the client's messages have it.
func (s *stresser) searchOwned() error {
	return s.run(fmt.Sprintf("UID SEARCH KEYWORD $o%d", 1+s.rng.IntN(4)), nil)
}

// uidExpunge expunges some of the messages seen \Deleted, by UID.
func (s *stresser) uidExpunge() error {
	var del, all []uint32
	for _, sl := range s.c.t.slots {
		if sl.uid == 0 {
			continue
		}
		all = append(all, sl.uid)
		if slices.ContainsFunc(sl.flags, func(f string) bool { return strings.EqualFold(f, `\Deleted`) }) {
			del = append(del, sl.uid)
		}
	}
	if len(del) == 0 {
		del = all
	}
	if len(del) == 0 {
		return s.run("EXPUNGE", nil)
	}
	var set []string
	for _, i := range s.rng.Perm(len(del))[:min(3, len(del))] {
		set = append(set, strconv.Itoa(int(del[i])))
	}
	return s.run("UID EXPUNGE "+strings.Join(set, ","), nil)
}

// pipeline sends a few commands without waiting, whose answers must come
// in order.
func (s *stresser) pipeline() error {
	all := []string{"NOOP", "FETCH 1:* (UID FLAGS)", "UID SEARCH ALL", "UID FETCH 1:* (FLAGS)", "CHECK", "SEARCH ALL"}
	var texts []string
	for range 2 + s.rng.IntN(3) {
		texts = append(texts, all[s.rng.IntN(len(all))])
	}
	cmds, err := s.c.send(texts...)
	if err != nil {
		return err
	}
	last := cmds[len(cmds)-1]
	return s.c.wait(last, func() bool { return last.done })
}

// stressFinal checks, once all clients have stopped, that each client's
// view synced by NOOP, and a fresh session's, are the store's: the same
// UIDs, the same flags, and the owner flags each client set; and that
// every message that some response left out was expunged.
func stressFinal(t *testing.T, e *env, sh *stShared, conns []*stConn, errs []error) {
	ctx := context.Background()
	f, err := e.st.Folder(ctx, e.john, "INBOX")
	tcheck(t, err, "folder")
	uids, err := e.st.UIDs(ctx, f.ID)
	tcheck(t, err, "uids")
	rows, err := e.st.MessagesMeta(ctx, e.john, f.ID, uids, store.MetaColumns{FlagsOnly: true})
	tcheck(t, err, "messages")
	flags := make(map[uint32]string, len(rows))
	for i := range rows {
		flags[rows[i].UID] = stFlagKey(rows[i].Flags())
	}
	if len(flags) != len(uids) {
		t.Errorf("the store has %d UIDs and %d message rows", len(uids), len(flags))
	}

	sync := func(c *stConn) error {
		if _, err := c.run("NOOP", nil); err != nil {
			return err
		}
		if len(c.t.slots) > 0 {
			if _, err := c.run("FETCH 1:* (UID FLAGS)", nil); err != nil {
				return err
			}
		}
		return nil
	}
	compare := func(c *stConn) {
		tr := c.t
		got := tr.knownUIDs()
		if len(got) != len(tr.slots) {
			t.Errorf("%s: the UIDs of %d of its %d messages are unknown after FETCH 1:* (UID FLAGS)", tr.name, len(tr.slots)-len(got), len(tr.slots))
			return
		}
		if !slices.Equal(got, uids) {
			t.Errorf("%s: its view after NOOP has %d messages, the store %d: %s", tr.name, len(got), len(uids), stDiff(got, uids))
			return
		}
		for _, sl := range tr.slots {
			if k := stFlagKey(sl.flags); !sl.flagsSet || k != flags[sl.uid] {
				t.Errorf("%s: UID %d has flags {%s} in its view (known: %v), {%s} in the store", tr.name, sl.uid, k, sl.flagsSet, flags[sl.uid])
			}
		}
		for u, key := range tr.owned {
			if fl, ok := flags[u]; ok && stOwnerKey(strings.Fields(fl)) != key {
				t.Errorf("%s: UID %d has owner flags {%s} in the store; its owner set {%s}", tr.name, u, stOwnerKey(strings.Fields(fl)), key)
			}
		}
	}
	for i, c := range conns {
		if errs[i] != nil {
			continue // its view is not to be trusted
		}
		if err := sync(c); err != nil {
			t.Errorf("final sync: %v", err)
			continue
		}
		compare(c)
	}

	fresh, err := stressLogin(e, sh, "fresh")
	if err != nil {
		t.Error(err)
		return
	}
	defer fresh.close()
	cmd, err := fresh.run("UID SEARCH ALL", nil)
	if err != nil {
		t.Error(err)
		return
	}
	if res := slices.Sorted(slices.Values(cmd.results)); !slices.Equal(res, uids) {
		t.Errorf("fresh session: UID SEARCH ALL returned %d UIDs, the store has %d: %s", len(res), len(uids), stDiff(res, uids))
	}
	if err := sync(fresh); err != nil {
		t.Error(err)
		return
	}
	compare(fresh)
	reportSoft(t, fresh.t)

	// The first of each kind, and how many.
	first := map[string]stPending{}
	count := map[string]int{}
	var kinds []string
	for _, p := range sh.mustExist {
		if _, ok := flags[p.uid]; !ok {
			continue // expunged: no violation
		}
		if count[p.kind] == 0 {
			first[p.kind] = p
			kinds = append(kinds, p.kind)
		}
		count[p.kind]++
	}
	for _, k := range kinds {
		t.Errorf("%v\n    (UID %d was never expunged; %d violations of this kind in all)", first[k].err, first[k].uid, count[k])
	}
}

// reportSoft reports the violations a client went on after, the first
// of each kind.
func reportSoft(t *testing.T, tr *stTracker) {
	t.Helper()
	for i, err := range tr.soft {
		t.Errorf("%v", err)
		if n := tr.softN[tr.softKind[i]]; n > 1 {
			t.Errorf("%s: %d more violations like this one", tr.name, n-1)
		}
	}
}

// stDiff says what got lacks and has more than want.
func stDiff(got, want []uint32) string {
	var missing, extra []uint32
	for _, u := range want {
		if !slices.Contains(got, u) {
			missing = append(missing, u)
		}
	}
	for _, u := range got {
		if !slices.Contains(want, u) {
			extra = append(extra, u)
		}
	}
	return fmt.Sprintf("missing %v, extra %v", missing, extra)
}

// TestStressChecker feeds the stress test's tracker hand-written
// transcripts: a valid one must pass, and each broken one must be caught
// at its last line, with the expected complaint.
func TestStressChecker(t *testing.T) {
	sel := []string{
		"C: s SELECT INBOX",
		`S: * 3 EXISTS`,
		`S: * 0 RECENT`,
		`S: * OK [UIDVALIDITY 7] UIDs valid`,
		`S: * OK [UIDNEXT 10] Predicted next UID`,
		`S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $a)`,
		`S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft $a $p \*)] Flags permitted`,
		`S: s OK [READ-WRITE] SELECT completed`,
	}
	script := func(lines ...string) []string { return append(slices.Clone(sel), lines...) }
	// A literal holding what looks like responses, which must be read as
	// the literal's bytes.
	hdr := "X: )\r\n* 9 EXPUNGE\r\nh OK done\r\n\r\n"
	lit := fmt.Sprintf("{%d}\r\n%s", len(hdr), hdr)
	tests := []struct {
		name   string
		script []string
		want   string // "" for none
	}{
		{"valid", script(
			"C: f FETCH 1:* (UID FLAGS)",
			`S: * 1 FETCH (UID 3 FLAGS (\Seen $a))`,
			`S: * 2 FETCH (UID 5 FLAGS ($p))`,
			`S: * 3 FETCH (UID 8 FLAGS (\Recent))`,
			`S: f OK FETCH completed`,
			"C: h FETCH 1 (UID RFC822.SIZE BODY.PEEK[HEADER])",
			`S: * 1 FETCH (UID 3 RFC822.SIZE 120 BODY[HEADER] `+lit+`)`,
			`S: h OK FETCH completed`,
			"C: n NOOP",
			`S: * 2 EXPUNGE`,
			`S: * 3 EXISTS`,
			`S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $a $b)`,
			`S: * 2 FETCH (UID 8 FLAGS ($b))`,
			`S: * 3 FETCH (UID 12 FLAGS ())`,
			`S: n OK NOOP completed`,
			"C: u UID SEARCH ALL",
			`S: * SEARCH 3 8 12`,
			`S: u OK SEARCH completed`,
			"C: x UID EXPUNGE 3",
			`S: * 1 EXPUNGE`,
			`S: x OK EXPUNGE completed`,
			"C: a NOOP",
			"C: b NOOP",
			`S: a OK NOOP completed`,
			`S: b OK NOOP completed`,
		), ""},
		{"keyword not announced", script(
			"C: f FETCH 1 (UID FLAGS)",
			`S: * 1 FETCH (UID 3 FLAGS (\Seen $zz))`,
		), "keyword $zz was not announced"},
		{"unknown system flag", script(
			"C: f FETCH 1 (FLAGS)",
			`S: * 1 FETCH (FLAGS (\Bogus))`,
		), `unknown system flag \Bogus`},
		{"EXISTS shrinks", script(
			"C: n NOOP",
			`S: * 2 EXISTS`,
		), "EXISTS shrank from 3 to 2"},
		{"EXPUNGE beyond the count", script(
			"C: n NOOP",
			`S: * 4 EXPUNGE`,
		), "EXPUNGE 4 beyond the 3 messages"},
		{"EXPUNGE beyond the count after renumbering", script(
			"C: n NOOP",
			`S: * 3 EXPUNGE`,
			`S: * 3 EXPUNGE`,
		), "EXPUNGE 3 beyond the 2 messages"},
		{"EXPUNGE during FETCH", script(
			"C: f FETCH 1 (FLAGS)",
			`S: * 1 EXPUNGE`,
		), "EXPUNGE while answering FETCH"},
		{"FETCH beyond the count", script(
			"C: f FETCH 1:* (FLAGS)",
			`S: * 4 FETCH (FLAGS ())`,
		), "FETCH for message 4 beyond the 3"},
		{"UID changes", script(
			"C: f FETCH 1 (UID)",
			`S: * 1 FETCH (UID 3)`,
			`S: f OK done`,
			"C: g FETCH 1 (UID)",
			`S: * 1 FETCH (UID 4)`,
		), "UID of message 1 changed from 3 to 4"},
		{"UID changes after renumbering", script(
			"C: f FETCH 1:2 (UID)",
			`S: * 1 FETCH (UID 3)`,
			`S: * 2 FETCH (UID 5)`,
			`S: f OK done`,
			"C: n NOOP",
			`S: * 1 EXPUNGE`,
			`S: * 1 FETCH (UID 3)`,
		), "UID of message 1 changed from 5 to 3"},
		{"expunged UID back", script(
			"C: f FETCH 1 (UID)",
			`S: * 1 FETCH (UID 3)`,
			`S: f OK done`,
			"C: n NOOP",
			`S: * 1 EXPUNGE`,
			`S: * 2 FETCH (UID 3)`,
		), "UID 3 was expunged"},
		{"UIDs not ascending", script(
			"C: f FETCH 1:2 (UID)",
			`S: * 1 FETCH (UID 5)`,
			`S: * 2 FETCH (UID 4)`,
		), "UIDs not ascending"},
		{"new message below UIDNEXT", script(
			"C: n NOOP",
			`S: * 4 EXISTS`,
			`S: * 4 FETCH (UID 9)`,
		), "below SELECT's UIDNEXT 10"},
		{"owner flag lost", script(
			`S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $a $o1 $o2)`,
			`C: a APPEND INBOX ($o1 \Seen) {10}`,
			`S: + Ready for literal data`,
			`S: * 4 EXISTS`,
			`S: a OK [APPENDUID 7 10] APPEND completed`,
			`C: u UID STORE 10 +FLAGS ($o2)`,
			`S: * 4 FETCH (UID 10 FLAGS (\Seen $o1))`,
		), "owner flags of UID 10 are {$o1}; this client, the only one that changes them, last set {$o1 $o2}"},
		{"owner flag back after removal", script(
			`S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $a $o1 $o2)`,
			`C: a APPEND INBOX ($o1 $o2) {10}`,
			`S: + Ready for literal data`,
			`S: * 4 EXISTS`,
			`S: a OK [APPENDUID 7 10] APPEND completed`,
			`C: u UID STORE 10 -FLAGS.SILENT ($o1)`,
			`S: u OK STORE completed`,
			`C: n NOOP`,
			`S: * 4 FETCH (UID 10 FLAGS ($o1 $o2 $a))`,
		), "owner flags of UID 10 are {$o1 $o2}"},
		{"owned keyword found where the owner removed it", script(
			`C: a APPEND INBOX ($o3) {10}`,
			`S: + Ready for literal data`,
			`S: * 4 EXISTS`,
			`S: a OK [APPENDUID 7 10] APPEND completed`,
			`C: u UID STORE 10 FLAGS (\Seen)`,
			`S: u OK STORE completed`,
			`C: s UID SEARCH KEYWORD $o3`,
			`S: * SEARCH 10`,
			`S: s OK SEARCH completed`,
		), "UID SEARCH KEYWORD $o3 returned UID 10"},
		{"size changes", script(
			"C: f FETCH 1 (UID RFC822.SIZE)",
			`S: * 1 FETCH (UID 3 RFC822.SIZE 100)`,
			`S: f OK done`,
			"C: g FETCH 1 (UID RFC822.SIZE)",
			`S: * 1 FETCH (UID 3 RFC822.SIZE 101)`,
		), "RFC822.SIZE of UID 3 is 101, but 100"},
		{"SEARCH beyond the count", script(
			"C: f SEARCH ALL",
			`S: * SEARCH 1 4`,
		), "SEARCH result 4 beyond the 3 messages"},
		{"UID SEARCH of unknown UIDs", script(
			"C: f FETCH 1:* (UID)",
			`S: * 1 FETCH (UID 3)`,
			`S: * 2 FETCH (UID 5)`,
			`S: * 3 FETCH (UID 8)`,
			`S: f OK done`,
			"C: u UID SEARCH ALL",
			`S: * SEARCH 3 5 8 9`,
		), "UID SEARCH returned UIDs [9]"},
		{"tagged response out of order", script(
			"C: a NOOP",
			"C: b NOOP",
			`S: b OK NOOP completed`,
		), "tagged response b out of order"},
		{"BAD", script(
			"C: n NOOP",
			`S: n BAD no`,
		), "NOOP answered BAD"},
		{"NO", script(
			"C: n UID STORE 1 +FLAGS (\\Seen)",
			`S: n NO [UNAVAILABLE] Temporary server failure; try again`,
		), "UID STORE answered NO"},
		{"BYE", script(
			"C: n NOOP",
			`S: * BYE Mailbox state lost; please reconnect`,
		), "unexpected BYE"},
		{"literal taken for responses", script(
			"C: h FETCH 1 (BODY.PEEK[HEADER])",
			`S: * 1 FETCH (BODY[HEADER] `+lit+` UID 3)`,
			`S: * 1 FETCH (UID 4)`,
		), "UID of message 1 changed from 3 to 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runStScript(tc.script)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid transcript flagged: %v", err)
				}
				return
			}
			var v *stViolation
			if !errors.As(err, &v) {
				t.Fatalf("not caught (err %v), want %q", err, tc.want)
			}
			if !strings.Contains(v.msg, tc.want) {
				t.Fatalf("caught as %q, want %q", v.msg, tc.want)
			}
			if last := strings.TrimPrefix(tc.script[len(tc.script)-1], "S: "); v.line != strings.ReplaceAll(strings.ReplaceAll(last, lit, "{"+strconv.Itoa(len(hdr))+"} "+stAbbrev(hdr)), "\r\n", " ") {
				t.Fatalf("caught at %q, want the last line %q", v.line, last)
			}
		})
	}
}

// TestStressRecentTwice: \Recent for one message in two sessions is
// caught.
func TestStressRecentTwice(t *testing.T) {
	sh := newStShared()
	for i, name := range []string{"one", "two"} {
		tr := newStTracker(name, sh)
		err := feedSt(tr, []string{
			"C: s SELECT INBOX", `S: * 1 EXISTS`, `S: * FLAGS (\Seen)`, `S: s OK done`,
			"C: f FETCH 1 (UID FLAGS)", `S: * 1 FETCH (UID 4 FLAGS (\Recent))`,
		})
		var v *stViolation
		switch {
		case i == 0 && err != nil:
			t.Fatalf("first session: %v", err)
		case i == 1 && (!errors.As(err, &v) || !strings.Contains(v.msg, `UID 4 is \Recent here and for one`)):
			t.Fatalf("second session: %v", err)
		}
	}
}

// runStScript runs a transcript through a fresh tracker: "C: tag text"
// is a command sent, "S: ..." what the server sends.
func runStScript(script []string) error {
	return feedSt(newStTracker("t", newStShared()), script)
}

func feedSt(tr *stTracker, script []string) error {
	for _, l := range script {
		if cmd, ok := strings.CutPrefix(l, "C: "); ok {
			tag, text, _ := strings.Cut(cmd, " ")
			tr.command(tag, text)
			continue
		}
		br := bufio.NewReader(strings.NewReader(strings.TrimPrefix(l, "S: ") + "\r\n"))
		for {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			r, err := readStResp(br)
			if err != nil {
				return err
			}
			if err := tr.handle(r); err != nil {
				return err
			}
			if len(tr.soft) > 0 {
				return tr.soft[0]
			}
			// Checks that wait for the end of a run: here the messages
			// are never expunged.
			if len(tr.sh.mustExist) > 0 {
				return tr.sh.mustExist[0].err
			}
		}
	}
	return nil
}
