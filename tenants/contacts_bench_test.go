package tenants_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Sizes of the contact benchmarks (issue 14's figures).
const (
	benchGAB       = 100000
	benchDirectory = 20000
	benchBook      = 10000
)

type benchFx struct {
	svc *tenants.Service
	db  *database.DB
	ctx context.Context
}

// fillDomain gives a.test benchDirectory mailboxes, a GAB of benchGAB
// contacts and ann's Contacts book of benchBook, written straight into
// the tables (the rules are not what is measured), and returns ann's
// login.
func fillDomain(b *testing.B, eng database.Dialect) (*benchFx, *tenants.Login) {
	b.Helper()
	db := tenantstest.Open(b, eng)
	f := &benchFx{svc: tenantstest.Service(db, nil), db: db, ctx: context.Background()}
	sys := tenants.SystemScope("bench")
	d, err := f.svc.CreateDomain(f.ctx, sys, "a.test", "")
	if err != nil {
		b.Fatal(err)
	}
	st := tenants.DefaultMailboxSettings()
	st.Postmaster = true
	if _, err := f.svc.CreateMailbox(f.ctx, sys, tenants.NewMailbox{Address: fxAddr(b, "ann@a.test"), Password: fxPassword, Settings: st}); err != nil {
		b.Fatal(err)
	}
	ann, err := f.svc.ResolveLogin(f.ctx, tenants.MailboxLogin, "ann@a.test", fxPassword, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, slug := range []string{"gab", "contacts"} { // makes both books
		if _, _, err := f.svc.PutContact(f.ctx, ann, slug, "seed.vcf", testCard("seed", "Seed Person", "seed@example.org"), tenants.PutCondition{}); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().UTC()
	fill := func(tx *gorm.DB, slug string, n int) error {
		var book int64
		if err := tx.Raw("SELECT id FROM address_books WHERE domain_id = ? AND slug = ?", d.ID, slug).Scan(&book).Error; err != nil {
			return err
		}
		for start := 0; start < n; start += 500 {
			var vals []string
			var args []any
			for i := start; i < min(start+500, n); i++ {
				vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
				uid := fmt.Sprintf("c%06d", i)
				args = append(args, book, uid+".vcf", uid, "e"+uid, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:"+uid+"\r\nFN:Contact\r\nEND:VCARD\r\n",
					fmt.Sprintf("Contact %d Person", i), fmt.Sprintf("contact%d@partner%d.example", i, i%100), i+10, now)
			}
			if err := tx.Exec("INSERT INTO contacts (book_id, href, uid, etag, vcard, full_name, emails, seq, updated_at) VALUES "+strings.Join(vals, ","), args...).Error; err != nil {
				return err
			}
		}
		return tx.Exec("UPDATE address_books SET sync_seq = ? WHERE id = ?", n+10, book).Error
	}
	err = f.db.Write(f.ctx, func(tx *gorm.DB) error {
		for start := 0; start < benchDirectory; start += 500 {
			var vals []string
			var args []any
			for i := start; i < min(start+500, benchDirectory); i++ {
				vals = append(vals, "(?, ?, ?, 'x', ?, ?)")
				args = append(args, d.ID, fmt.Sprintf("user%05d", i), fmt.Sprintf("First%d Last%d", i, i), now, now)
			}
			if err := tx.Exec("INSERT INTO mailboxes (domain_id, local_part, full_name, password_hash, created_at, updated_at) VALUES "+strings.Join(vals, ","), args...).Error; err != nil {
				return err
			}
		}
		if err := fill(tx, "gab", benchGAB); err != nil {
			return err
		}
		return fill(tx, "contacts", benchBook)
	})
	if err != nil {
		b.Fatal(err)
	}
	return f, ann
}

// percentiles reports the p50 and p99 of the timed calls.
func percentiles(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkContactSearch: search as you type (three letters, then more)
// over a GAB of 100,000 contacts and a directory of 20,000 mailboxes, as
// webmail's completion and Contacts search ask it.
func BenchmarkContactSearch(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			f, ann := fillDomain(b, eng)
			for _, q := range []string{"con", "contact 4711", "last19"} {
				b.Run(strings.ReplaceAll(q, " ", "_"), func(b *testing.B) {
					var ds []time.Duration
					for b.Loop() {
						t0 := time.Now()
						if _, err := f.svc.AddressCompletion(f.ctx, ann, q, 20); err != nil {
							b.Fatal(err)
						}
						ds = append(ds, time.Since(t0))
					}
					percentiles(b, ds)
				})
			}
		})
	}
}

// BenchmarkContactSync: a CardDAV client's initial sync of a 10,000
// contact book (pieces of 1,000) and one sync-collection after a change.
func BenchmarkContactSync(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			f, ann := fillDomain(b, eng)
			b.Run("initial", func(b *testing.B) {
				var ds []time.Duration
				for b.Loop() {
					t0 := time.Now()
					tok, n := "", 0
					for {
						ch, err := f.svc.SyncContacts(f.ctx, ann, "contacts", tok, 0)
						if err != nil {
							b.Fatal(err)
						}
						n += len(ch.Updated)
						tok = ch.Token
						if !ch.Truncated {
							break
						}
					}
					if n < benchBook {
						b.Fatalf("synced %d", n)
					}
					ds = append(ds, time.Since(t0))
				}
				percentiles(b, ds)
			})
			b.Run("after-one-change", func(b *testing.B) {
				tok := ""
				for { // to the end of the book
					ch, err := f.svc.SyncContacts(f.ctx, ann, "contacts", tok, 0)
					if err != nil {
						b.Fatal(err)
					}
					tok = ch.Token
					if !ch.Truncated {
						break
					}
				}
				var ds []time.Duration
				i := 0
				for b.Loop() {
					i++
					if _, _, err := f.svc.PutContact(f.ctx, ann, "contacts", "c000001.vcf", testCard("c000001", fmt.Sprintf("Changed %d", i), "x@example.org"), tenants.PutCondition{}); err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					ch, err := f.svc.SyncContacts(f.ctx, ann, "contacts", tok, 0)
					if err != nil || len(ch.Updated) != 1 {
						b.Fatalf("%v %v", ch, err)
					}
					ds = append(ds, time.Since(t0))
					tok = ch.Token
				}
				percentiles(b, ds)
			})
		})
	}
}
