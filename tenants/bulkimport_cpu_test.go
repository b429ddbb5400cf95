package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// l33tPassword is row i's password of the slowest kind known for the
// strength check (every l33t symbol, over zxcvbn's 48 characters), each
// different, which the cheap rules let through to zxcvbn.
func l33tPassword(i int) string {
	const syms = "4@8({[<3|1!$5+7%2"
	r := i % len(syms)
	return strings.Repeat(syms[r:]+syms[:r], 4)[:60] + fmt.Sprintf("%04d", i)
}

// worstImport is a file of n rows with l33tPassword passwords.
func worstImport(t testing.TB, n int) []tenants.ImportRow {
	t.Helper()
	var b strings.Builder
	b.WriteString("username,description,password\n")
	for i := range n {
		fmt.Fprintf(&b, "user%05d,User %d,\"%s\"\n", i, i, strings.ReplaceAll(l33tPassword(i), `"`, `""`))
	}
	rows, err := tenants.ParseImportCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestForEachRowStopsWhenCancelled: the rows of an import stop once its
// context is done, and all imports together check at most as many rows at
// once as the Service has import slots.
func TestForEachRowStopsWhenCancelled(t *testing.T) {
	s := tenants.New(nil, tenants.Options{})
	slots := cap(s.ImportSlots())

	// Cancelled at row 10 of 10,000: the rows already taken finish, no more
	// start.
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	err := s.ForEachRow(ctx, 10000, func(i int) {
		if calls.Add(1) == 10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if n := calls.Load(); n > int64(10+slots) {
		t.Errorf("%d rows checked after cancelling at row 10 with %d slots", n, slots)
	}
	if len(s.ImportSlots()) != 0 {
		t.Errorf("%d slots still taken", len(s.ImportSlots()))
	}

	// Three imports at once never run more rows together than there are
	// slots.
	var running, most atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			err := s.ForEachRow(context.Background(), 200, func(int) {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				for range 1000 {
					_ = strings.Repeat("x", 10)
				}
				running.Add(-1)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > int64(slots) {
		t.Errorf("%d rows at once, more than the %d slots", m, slots)
	}

	// An import waiting for slots other imports hold gives up when its
	// context ends, having checked nothing.
	for range slots {
		s.ImportSlots() <- struct{}{}
	}
	ctx, cancel = context.WithCancel(context.Background())
	calls.Store(0)
	errc := make(chan error)
	go func() { errc <- s.ForEachRow(ctx, 100, func(int) { calls.Add(1) }) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || calls.Load() != 0 {
		t.Errorf("err %v after %d rows, want context.Canceled after none", err, calls.Load())
	}
	for range slots {
		<-s.ImportSlots()
	}
}

// TestCheckImportCancelled: a preview whose request ends (the browser
// closed) stops with the context's error and gives back its slots; the
// same file checks afterwards, the slowest passwords with their verdicts.
func TestCheckImportCancelled(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newImportFx(t, db)
		rows := worstImport(t, 300)
		rows = append(rows, tenants.ImportRow{Line: 1000, Username: "weak", Password: "P@ssw0rd2024!"})

		// Every slot held by other imports: this one waits, then its
		// browser goes away.
		slots := f.s.ImportSlots()
		for range cap(slots) {
			slots <- struct{}{}
		}
		ctx, cancel := context.WithCancel(context.Background())
		type result struct {
			plan *tenants.ImportPlan
			err  error
		}
		done := make(chan result)
		go func() {
			p, err := f.s.CheckImport(ctx, f.pmA, "a.test", "", rows)
			done <- result{p, err}
		}()
		cancel()
		r := <-done
		if !errors.Is(r.err, context.Canceled) || r.plan != nil {
			t.Fatalf("CheckImport after cancel: %v, %v", r.plan, r.err)
		}
		for range cap(slots) {
			<-slots
		}
		if len(slots) != 0 {
			t.Fatalf("%d slots still taken", len(slots))
		}

		plan, err := f.s.CheckImport(context.Background(), f.pmA, "a.test", "", rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Mailboxes) != 300 || len(plan.Problems) != 1 || plan.Problems[0].Line != 1000 ||
			!strings.Contains(plan.Problems[0].Message, "similar to a commonly used password") {
			t.Errorf("%d mailboxes, problems %+v", len(plan.Mailboxes), plan.Problems)
		}
	})
}

// BenchmarkCheckImportWorstCase1000 previews 1,000 rows of the slowest
// passwords known for the strength check (SQLite).
func BenchmarkCheckImportWorstCase1000(b *testing.B) {
	db := tenantstest.Open(b, database.SQLite)
	s := tenantstest.Service(db, nil)
	ctx := context.Background()
	admin := tenants.SystemScope("bench")
	if _, err := s.CreateDomain(ctx, admin, "a.test", ""); err != nil {
		b.Fatal(err)
	}
	rows := worstImport(b, 1000)
	for b.Loop() {
		plan, err := s.CheckImport(ctx, admin, "a.test", "", rows)
		if err != nil || len(plan.Mailboxes)+len(plan.Problems) != 1000 {
			b.Fatal(plan, err)
		}
	}
}
