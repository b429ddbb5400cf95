package ldapd_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// Sizes of the LDAP benchmark: a domain's directory and GAB.
const (
	benchPeople   = 2000
	benchContacts = 10000
	benchClients  = 16
)

// fillBench adds benchPeople mailboxes and benchContacts GAB contacts to
// a.test, straight into the tables.
func fillBench(b *testing.B, db *database.DB) {
	ctx := context.Background()
	now := time.Now().UTC()
	err := db.Write(ctx, func(tx *gorm.DB) error {
		var dom, gab int64
		if err := tx.Raw("SELECT id FROM domains WHERE name = 'a.test'").Scan(&dom).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT id FROM address_books WHERE domain_id = ? AND slug = 'gab'", dom).Scan(&gab).Error; err != nil {
			return err
		}
		for start := 0; start < benchPeople; start += 500 {
			var vals []string
			var args []any
			for i := start; i < min(start+500, benchPeople); i++ {
				vals = append(vals, "(?, ?, ?, 'x', ?, ?)")
				args = append(args, dom, fmt.Sprintf("user%05d", i), fmt.Sprintf("First%d Last%d", i, i), now, now)
			}
			if err := tx.Exec("INSERT INTO mailboxes (domain_id, local_part, full_name, password_hash, created_at, updated_at) VALUES "+strings.Join(vals, ","), args...).Error; err != nil {
				return err
			}
		}
		for start := 0; start < benchContacts; start += 500 {
			var vals []string
			var args []any
			for i := start; i < min(start+500, benchContacts); i++ {
				uid := fmt.Sprintf("c%06d", i)
				vals = append(vals, "(?, ?, ?, ?, 'BEGIN:VCARD\r\nEND:VCARD\r\n', ?, ?, ?, ?, ?)")
				args = append(args, gab, uid+".vcf", uid, "e"+uid, fmt.Sprintf("Contact %d Person", i), "Person",
					fmt.Sprintf("contact%d@partner.example", i), i+10, now)
			}
			if err := tx.Exec("INSERT INTO contacts (book_id, href, uid, etag, vcard, full_name, family_name, emails, seq, updated_at) VALUES "+strings.Join(vals, ","), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSearchParallel: 16 clients, each bound over StartTLS on its
// own connection, search as address books do; p50 and p99 of one search.
func BenchmarkSearchParallel(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			db := tenantstest.Open(b, eng)
			e := newEnv(b, db, false)
			fillBench(b, db)
			conns := make([]*ldap.Conn, benchClients)
			for i := range conns {
				c, err := e.dial("ann@a.test", false)
				if err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			var mu sync.Mutex
			var ds []time.Duration
			b.ResetTimer()
			var wg sync.WaitGroup
			per := max(1, b.N/benchClients)
			for i, c := range conns {
				wg.Go(func() {
					for j := range per {
						q := fmt.Sprintf("contact%d", 1000+(i*per+j)%(benchContacts-1000))
						t0 := time.Now()
						_, err := search(c, "dc=a,dc=test", "(|(cn=*"+q+"*)(mail="+q+"*)(sn="+q+"*))", "cn", "mail")
						d := time.Since(t0)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						ds = append(ds, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
		})
	}
}
