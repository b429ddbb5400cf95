package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// benchFolderSize is the folder the list and read pages are measured on.
const benchFolderSize = 10000

// fillFolder makes ann's INBOX hold n messages: 50 delivered as SMTP
// delivers them, the rest rows sharing their bodies (as a delivery to many
// recipients shares one), each with its own UID and arrival time.
func fillFolder(b testing.TB, f *wmFx, n int) *store.Folder {
	b.Helper()
	ctx := context.Background()
	for i := range 50 {
		f.deliver("ann@a.test", "", wmSimple(fmt.Sprintf("Sender %d <s%d@remote.test>", i, i), fmt.Sprintf("subject %d", i),
			fmt.Sprintf("body of message %d\r\n%s", i, wmPlain)))
	}
	inbox := f.folder("ann@a.test", "INBOX")
	seed := f.messages("ann@a.test", "INBOX")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err := f.db.Write(ctx, func(tx *gorm.DB) error {
		var rows []store.Message
		for i := len(seed); i < n; i++ {
			m := seed[i%len(seed)]
			m.ID, m.UID, m.InternalDate, m.Seen = 0, uint32(i+1), start.Add(time.Duration(i)*time.Minute), i%3 == 0
			rows = append(rows, m)
		}
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return err
		}
		return tx.Model(&store.Folder{}).Where("id = ?", inbox.ID).Update("uid_next", n+1).Error
	})
	wmMust(b, err)
	return inbox
}

// BenchmarkWebmailList measures the first page of a 10,000-message folder
// (and its 100th page), from the stored metadata, as the browser gets it.
func BenchmarkWebmailList(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			f := newWMFx(b, tenantstest.Open(b, eng), wmOptions{})
			inbox := fillFolder(b, f, benchFolderSize)
			c := f.client()
			c.login("ann@a.test")
			for _, page := range []int{1, 100} {
				b.Run(fmt.Sprintf("page%d", page), func(b *testing.B) {
					path := fmt.Sprintf("/webmail/f/%d?page=%d", inbox.ID, page)
					for b.Loop() {
						if rec := c.do(http.MethodGet, path, nil, ""); rec.Code != http.StatusOK {
							b.Fatalf("GET %s: %d", path, rec.Code)
						}
					}
				})
			}
		})
	}
}

// BenchmarkWebmailRead measures a message's page in a 10,000-message
// folder.
func BenchmarkWebmailRead(b *testing.B) {
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			f := newWMFx(b, tenantstest.Open(b, eng), wmOptions{})
			inbox := fillFolder(b, f, benchFolderSize)
			c := f.client()
			c.login("ann@a.test")
			path := fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, benchFolderSize/2)
			for b.Loop() {
				if rec := c.do(http.MethodGet, path, nil, ""); rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, rec.Code)
				}
			}
		})
	}
}

// manyPartMessage is a message of n small text parts, each about 4.6 KB
// (9,800 of them make the 45 MB message of issue 11).
func manyPartMessage(n int) string {
	var b strings.Builder
	b.WriteString("From: Many <many@remote.test>\r\nTo: ann@a.test\r\nSubject: many parts\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"bnd\"\r\n\r\n")
	line := strings.Repeat("all work and no play makes a long message ", 2) + "\r\n"
	for i := range n {
		fmt.Fprintf(&b, "--bnd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npart %d\r\n", i)
		for range 53 {
			b.WriteString(line)
		}
	}
	b.WriteString("--bnd--\r\n")
	return b.String()
}

// BenchmarkWebmailManyParts measures the read page of a message of 1,000
// and of 9,800 small text parts (issue 11: 7.3 s and 75 s before the text
// shown was bounded and built linearly). The cost is parsing, not the
// database, so SQLite alone.
func BenchmarkWebmailManyParts(b *testing.B) {
	for _, n := range []int{1000, 9800} {
		b.Run(fmt.Sprintf("parts%d", n), func(b *testing.B) {
			f := newWMFx(b, tenantstest.Open(b, tenantstest.Engines[0]), wmOptions{})
			uid := f.deliver("ann@a.test", "", manyPartMessage(n))
			inbox := f.folder("ann@a.test", "INBOX")
			c := f.client()
			c.login("ann@a.test")
			path := fmt.Sprintf("/webmail/f/%d/m/%d", inbox.ID, uid)
			for b.Loop() {
				if rec := c.do(http.MethodGet, path, nil, ""); rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, rec.Code)
				}
			}
		})
	}
}
