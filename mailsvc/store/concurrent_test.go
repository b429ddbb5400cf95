package store_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestConcurrentDeliveries: 32 deliveries at once never fail with
// SQLITE_BUSY (writes are serialised) and every message gets its own UID.
func TestConcurrentDeliveries(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		const workers, each = 32, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					p, err := s.Blobs().Create(ctx)
					if err != nil {
						errs <- err
						return
					}
					io.WriteString(p, fmt.Sprintf("Subject: %d-%d\r\n\r\nbody\r\n", w, i))
					res, err := s.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: john}}})
					if err == nil && res.Errs[0] != nil {
						err = res.Errs[0]
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("delivery failed: %v", err)
		}
		inbox := mustFolder(t, s, john, "INBOX")
		uids, err := s.UIDs(ctx, inbox.ID)
		tcheck(t, err, "uids")
		if len(uids) != workers*each {
			t.Fatalf("%d messages stored, want %d", len(uids), workers*each)
		}
		for i, u := range uids {
			if u != uint32(i+1) {
				t.Fatalf("uid %d at %d: UIDs must be 1..n without gaps or repeats", u, i)
			}
		}
		_, n, _ := s.Usage(ctx, john)
		if n != workers*each {
			t.Fatalf("usage counts %d messages", n)
		}
	})
}

// TestSQLiteTwoProcesses: a second handle on the same SQLite file (as the
// CLI beside serve is) writes while the first delivers; neither sees
// SQLITE_BUSY.
func TestSQLiteTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *database.DB {
		db, err := database.Open(ctx, database.Config{DataDir: dir})
		tcheck(t, err, "open")
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1 := open()
	tenantstest.Migrate(t, db1)
	db2 := open()
	s1, john, _ := env(t, db1)
	bs := s1.Blobs()
	s2 := store.New(db2, bs, store.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for _, s := range []*store.Store{s1, s2} {
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					p, _ := bs.Create(ctx)
					io.WriteString(p, "Subject: x\r\n\r\ny\r\n")
					if _, err := s.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: john}}}); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("delivery failed: %v", err)
	}
	inbox := mustFolder(t, s1, john, "INBOX")
	if uids, _ := s1.UIDs(ctx, inbox.ID); len(uids) != 160 {
		t.Fatalf("%d messages, want 160", len(uids))
	}
}

// TestDeliverBesideExpunge: deliveries under a quota (which lock the
// usage row) beside expunges and copies in the same folder (which lock
// the folder, then the usage row) never deadlock: every writer locks the
// folder first.
func TestDeliverBesideExpunge(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		tcheck(t, s.EnsureFolders(ctx, john), "folders")
		inbox := mustFolder(t, s, john, "INBOX")
		arch := mustFolder(t, s, john, "Archive")
		const rounds = 60
		var wg sync.WaitGroup
		errs := make(chan error, 3*rounds)
		wg.Add(3)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				p, err := s.Blobs().Create(ctx)
				if err != nil {
					errs <- err
					return
				}
				io.WriteString(p, fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))
				res, err := s.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: john, Quota: 1 << 30}}})
				if err == nil && res.Errs[0] != nil {
					err = res.Errs[0]
				}
				if err != nil {
					errs <- fmt.Errorf("deliver: %w", err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if _, err := s.StoreFlags(ctx, inbox.ID, nil, store.FlagsAdd, store.Flags{store.FlagDeleted}); err != nil {
					errs <- fmt.Errorf("flag: %w", err)
				}
				if _, err := s.Expunge(ctx, inbox, nil); err != nil {
					errs <- fmt.Errorf("expunge: %w", err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if _, err := s.Copy(ctx, inbox, arch, nil, 1<<30); err != nil {
					errs <- fmt.Errorf("copy: %w", err)
				}
				if _, err := s.Expunge(ctx, arch, nil); err != nil {
					errs <- fmt.Errorf("expunge archive: %w", err)
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
