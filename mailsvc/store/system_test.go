package store_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestSystemMailbox: a delivery stores into the system mailbox beside a
// mailbox; garbage collection keeps its blob while the system mailbox
// holds it; only a scope reaching every domain reads or deletes it.
func TestSystemMailbox(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		_, john, _ := env(t, db)
		// A store that records deletions in the audit log.
		ts := tenantstest.Service(db, nil)
		bs, err := blob.NewFiles(t.TempDir())
		tcheck(t, err, "blobs")
		s := store.New(db, bs, store.Options{Audit: ts})
		admin := tenants.Scope{Role: tenants.RoleAdmin, Actor: "root"}
		res := deliver(t, s, msg1, store.Rcpt{System: true, Prefix: "Delivered-To: postmaster@example.test\r\n"}, store.Rcpt{MailboxID: john})
		if res.Errs[0] != nil || res.Errs[1] != nil {
			t.Fatalf("result %+v", res)
		}
		deliver(t, s, "Subject: second\r\n\r\nx\r\n", store.Rcpt{System: true})
		ms, total, err := s.SystemMessages(ctx, admin, 10, 0)
		tcheck(t, err, "list")
		if total != 2 || len(ms) != 2 || ms[0].Subject != "second" || ms[1].Subject != "Grüße" || ms[1].FromAddr == "" {
			t.Fatalf("listed %d of %d: %+v", len(ms), total, ms)
		}
		for _, sc := range []tenants.Scope{{Role: tenants.RolePostmaster, DomainID: 1}, {Role: tenants.RoleUser, DomainID: 1, MailboxID: john}, {}} {
			if _, _, err := s.SystemMessages(ctx, sc, 10, 0); !errors.Is(err, tenants.ErrForbidden) {
				t.Errorf("role %d lists the system mailbox: %v", sc.Role, err)
			}
			if _, _, err := s.SystemMessage(ctx, sc, ms[0].ID); !errors.Is(err, tenants.ErrForbidden) {
				t.Errorf("role %d reads the system mailbox: %v", sc.Role, err)
			}
			if err := s.DeleteSystemMessage(ctx, sc, ms[0].ID); !errors.Is(err, tenants.ErrForbidden) {
				t.Errorf("role %d deletes from the system mailbox: %v", sc.Role, err)
			}
		}
		if _, err := s.CollectGarbage(ctx, -time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			_, r, err := s.SystemMessage(ctx, admin, m.ID)
			tcheck(t, err, "open after gc")
			b, err := io.ReadAll(r)
			r.Close()
			tcheck(t, err, "read after gc")
			if m.ID == ms[1].ID && !strings.HasPrefix(string(b), "Delivered-To: postmaster@example.test\r\nFrom: Ann") {
				t.Errorf("message read %q", b)
			}
		}
		tcheck(t, s.DeleteSystemMessage(ctx, admin, ms[0].ID), "delete")
		recs, _, err := ts.AuditRecords(ctx, tenants.SystemScope("test"), tenants.AuditQuery{})
		tcheck(t, err, "audit log")
		found := false
		for _, r := range recs {
			if r.Action == "systemmail.delete" && r.Actor == "root" && strings.Contains(r.Detail, "second") {
				found = true
			}
		}
		if !found {
			t.Errorf("deletion not in the audit log: %+v", recs)
		}
		if err := s.DeleteSystemMessage(ctx, admin, ms[0].ID); !errors.Is(err, store.ErrNoMessage) {
			t.Errorf("delete again: %v", err)
		}
		if _, _, err := s.SystemMessage(ctx, admin, ms[0].ID); !errors.Is(err, store.ErrNoMessage) {
			t.Errorf("read deleted: %v", err)
		}
		if n, err := s.CollectGarbage(ctx, -time.Hour); err != nil || n != 1 {
			t.Errorf("gc after delete removed %d, %v", n, err)
		}
	})
}
