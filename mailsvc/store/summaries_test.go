package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"sync/atomic"

	"github.com/emersion/go-message/textproto"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// simple is a one-part message.
func simple(from, subject, body string) string {
	return "From: " + from + "\r\nTo: john@example.test\r\nCc: cc@remote.test\r\nSubject: " + subject +
		"\r\nDate: Sat, 21 Nov 2026 09:00:00 +0000\r\n\r\n" + body + "\r\n"
}

// fillShared makes the mailbox's INBOX hold n messages: 50 delivered, the rest
// rows sharing their bodies (as a delivery to many recipients shares
// one), each with its own UID and arrival time, older than the delivered.
func fillShared(t *testing.T, s *store.Store, db *database.DB, mailbox int64, n int) *store.Folder {
	t.Helper()
	ctx := context.Background()
	for i := range 50 {
		deliver(t, s, simple(fmt.Sprintf("Sender %d <s%d@remote.test>", i, i), fmt.Sprintf("subject %d", i),
			fmt.Sprintf("body of message %d\r\nmore text", i)), store.Rcpt{MailboxID: mailbox})
	}
	inbox := mustFolder(t, s, mailbox, "INBOX")
	seed, err := s.Messages(ctx, inbox.ID, nil)
	tcheck(t, err, "messages")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.Write(ctx, func(tx *gorm.DB) error {
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
	tcheck(t, err, "fill folder")
	return inbox
}

// TestSummaries: counts, pages, header filters (LIKE's own characters
// match themselves), and nothing of another mailbox.
func TestSummaries(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, ann := env(t, db)
		tcheck(t, s.EnsureFolders(ctx, john), "folders")
		tcheck(t, s.EnsureFolders(ctx, ann), "folders")
		for i := range 5 {
			deliver(t, s, simple(fmt.Sprintf("Sender %d <s%d@remote.test>", i, i), fmt.Sprintf("subject %d", i), "hello"),
				store.Rcpt{MailboxID: john})
		}
		deliver(t, s, simple("Percent <p@remote.test>", "100% sure_thing", "hello"), store.Rcpt{MailboxID: john, Flags: store.Flags{store.FlagSeen}})
		deliver(t, s, simple("Other <o@remote.test>", "for ann", "hello"), store.Rcpt{MailboxID: ann})
		inbox := mustFolder(t, s, john, "INBOX")

		counts, err := s.MessageCounts(ctx, john)
		tcheck(t, err, "counts")
		if c := counts[inbox.ID]; c.Messages != 6 || c.Unseen != 5 || len(counts) != 1 {
			t.Errorf("counts %+v", counts)
		}

		pg, err := s.Summaries(ctx, john, inbox.ID, store.SummaryQuery{Limit: 4})
		tcheck(t, err, "page 1")
		if len(pg.Messages) != 4 || pg.Total != 6 || !pg.More || pg.Messages[0].UID != 6 || pg.Messages[0].Subject != "100% sure_thing" {
			t.Errorf("page 1: %+v", pg)
		}
		if m := pg.Messages[0]; !m.Seen || m.From != "Percent <p@remote.test>" || m.To != "john@example.test" ||
			!m.Date.Equal(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("summary %+v", m)
		}
		pg, err = s.Summaries(ctx, john, inbox.ID, store.SummaryQuery{Limit: 4, Offset: 4})
		tcheck(t, err, "page 2")
		if len(pg.Messages) != 2 || pg.More || pg.Total != 6 {
			t.Errorf("page 2: %+v", pg)
		}
		for _, c := range []struct {
			q    store.SummaryQuery
			want int64
		}{
			{store.SummaryQuery{From: "SENDER 3"}, 1},
			{store.SummaryQuery{From: "sender"}, 5},
			{store.SummaryQuery{To: "cc@remote"}, 6}, // Cc counts as To
			{store.SummaryQuery{Subject: "100%"}, 1},
			{store.SummaryQuery{Subject: "%"}, 1},
			{store.SummaryQuery{Subject: "_"}, 1},
			{store.SummaryQuery{Subject: "subject", From: "sender 1"}, 1},
			{store.SummaryQuery{Subject: "for ann"}, 0},
		} {
			pg, err := s.Summaries(ctx, john, inbox.ID, c.q)
			tcheck(t, err, "filter")
			if pg.Total != c.want || len(pg.Messages) != int(c.want) {
				t.Errorf("%+v: total %d, %d messages; want %d", c.q, pg.Total, len(pg.Messages), c.want)
			}
		}
		sum, err := s.Summary(ctx, john, inbox.ID, 2)
		tcheck(t, err, "summary")
		if sum.Subject != "subject 1" {
			t.Errorf("summary %+v", sum)
		}
		// Another mailbox's folder, or a message not in the folder.
		if _, err := s.Summaries(ctx, ann, inbox.ID, store.SummaryQuery{}); !errors.Is(err, store.ErrNoFolder) {
			t.Errorf("other mailbox's folder: %v", err)
		}
		if _, err := s.Summary(ctx, ann, inbox.ID, 2); !errors.Is(err, store.ErrNoMessage) {
			t.Errorf("other mailbox's message: %v", err)
		}
		if _, err := s.Summary(ctx, john, inbox.ID, 99); !errors.Is(err, store.ErrNoMessage) {
			t.Errorf("no such message: %v", err)
		}
		// A body search must be bounded.
		if _, err := s.Summaries(ctx, john, inbox.ID, store.SummaryQuery{Body: func(string, string) bool { return true }}); err == nil {
			t.Error("a body search without bounds ran")
		}
	})
}

// TestBodySearchBounded: a body search in a folder larger than its cap
// reads the page and one match more, not the whole folder; with no match
// it stops after MaxScan messages, or at its deadline, and the page says
// so; a request that ends ends it with the context's error.
func TestBodySearchBounded(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		const scan = 5000 // webmail's MaxBodyScan
		const size = scan + 1000
		s, john, _ := env(t, db)
		inbox := fillShared(t, s, db, john, size)
		ctx := context.Background()

		// reads counts the messages a search reads (each has one text part).
		reads := 0
		search := func(ctx context.Context, needle string, q store.SummaryQuery) *store.SummaryPage {
			t.Helper()
			reads = 0
			q.Body = func(sub, text string) bool {
				reads++
				return strings.Contains(text, needle)
			}
			if q.MaxScan == 0 {
				q.MaxScan = scan
			}
			if q.Deadline.IsZero() {
				q.Deadline = time.Now().Add(time.Minute)
			}
			pg, err := s.Summaries(ctx, john, inbox.ID, q)
			tcheck(t, err, "search")
			return pg
		}

		// Every message matches: the first page and one more, then stop.
		pg := search(ctx, "body of message", store.SummaryQuery{Limit: 50})
		if len(pg.Messages) != 50 || !pg.More || pg.Stopped || pg.Total != -1 || reads != 51 {
			t.Errorf("page 1: %d messages, more %v, stopped %v, total %d, %d read; want 50, true, false, -1, 51",
				len(pg.Messages), pg.More, pg.Stopped, pg.Total, reads)
		}
		first := pg.Messages[0].UID
		pg = search(ctx, "body of message", store.SummaryQuery{Limit: 50, Offset: 50})
		if len(pg.Messages) != 50 || !pg.More || reads != 101 || pg.Messages[0].UID == first {
			t.Errorf("page 2: %d messages, more %v, %d read; want 50, true, 101", len(pg.Messages), pg.More, reads)
		}

		// Nothing matches: it stops at the cap, not at the folder's end.
		pg = search(ctx, "nothing-like-this", store.SummaryQuery{Limit: 50})
		if len(pg.Messages) != 0 || pg.More || !pg.Stopped || pg.Total != -1 || reads != scan {
			t.Errorf("no match: %d messages, more %v, stopped %v, total %d, %d read; want 0, false, true, -1, %d",
				len(pg.Messages), pg.More, pg.Stopped, pg.Total, reads, scan)
		}

		// Matches only past the cap are not reached: message 1 (the oldest)
		// shares its body with every 50th message, so ask for the seed's
		// own words in a folder cut to fewer reads.
		pg = search(ctx, "body of message 0\r\n", store.SummaryQuery{Limit: 50, MaxScan: 120})
		if !pg.Stopped || reads != 120 || len(pg.Messages) != 2 {
			t.Errorf("cap 120: %d messages, stopped %v, %d read; want 2, true, 120", len(pg.Messages), pg.Stopped, reads)
		}

		// A search that reads to the end counts exactly.
		pg = search(ctx, "body of message 0\r\n", store.SummaryQuery{Limit: 500, MaxScan: size})
		if pg.Stopped || pg.More || pg.Total != size/50 || len(pg.Messages) != size/50 || reads != size {
			t.Errorf("to the end: %d messages, total %d, stopped %v, %d read; want %d, %d, false, %d",
				len(pg.Messages), pg.Total, pg.Stopped, reads, size/50, size/50, size)
		}

		// Out of time: a deadline already passed reads nothing.
		pg = search(ctx, "body of message", store.SummaryQuery{Limit: 50, Deadline: time.Now().Add(-time.Second)})
		if !pg.Stopped || reads != 0 || len(pg.Messages) != 0 {
			t.Errorf("deadline: stopped %v, %d read", pg.Stopped, reads)
		}

		// The request ends (the browser went away): an error, not a page.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Summaries(cctx, john, inbox.ID, store.SummaryQuery{Limit: 50, MaxScan: scan, Deadline: time.Now().Add(time.Minute),
			Body: func(string, string) bool { return false }})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	})
}

// countingBlobs counts the bytes read from the real file blobs.
type countingBlobs struct {
	blob.Store
	n atomic.Int64
}

func (c *countingBlobs) Open(ctx context.Context, key string) (blob.Reader, error) {
	r, err := c.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &countingReader{Reader: r, n: &c.n}, nil
}

type countingReader struct {
	blob.Reader
	n *atomic.Int64
}

func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(p, off)
	r.n.Add(int64(n))
	return n, err
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// TestBodySearchParts: a body search reads the text parts the store
// recorded at delivery, decoded (transfer encoding, charset), text/html
// as such, not attached messages, and not the bytes of other parts; a
// message recorded without part offsets is walked instead; a search of
// a many-part message stops when the request ends.
func TestBodySearchParts(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		_, john, _ := env(t, db)
		files, err := blob.NewFiles(t.TempDir())
		tcheck(t, err, "blobs")
		cb := &countingBlobs{Store: files}
		s := store.New(db, cb, store.Options{})
		zip := strings.Repeat("UEsDBBQAAAAIAA"+strings.Repeat("A", 62)+"\r\n", 40000) // 3 MB of attachment
		mixed := "From: a@remote.test\r\nSubject: mixed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n" +
			"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n" + zip +
			"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+Z2lyYWZmZTwvcD4=\r\n" +
			"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n"
		// Cut off before its closing boundary: indexed without offsets.
		cut := "From: b@remote.test\r\nSubject: cut\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n" +
			"--c\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nwal=\r\nrus\r\n" +
			"--c\r\nContent-Type: text/plain\r\n\r\nlast part, never closed\r\n"
		var many strings.Builder
		many.WriteString("Subject: many\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n")
		for i := range 900 {
			fmt.Fprintf(&many, "--m\r\nContent-Type: text/plain\r\n\r\npart %d\r\n%s\r\n", i, strings.Repeat("x", 4000))
		}
		many.WriteString("--m--\r\n")
		for _, m := range []string{mixed, cut, many.String()} {
			deliver(t, s, m, store.Rcpt{MailboxID: john})
		}
		inbox := mustFolder(t, s, john, "INBOX")
		meta, err := s.MessagesMeta(ctx, john, inbox.ID, []uint32{1, 2}, store.MetaColumns{Structure: true})
		tcheck(t, err, "meta")
		for i, want := range []bool{true, false} {
			p, err := store.ParseStructure(meta[i].Structure)
			tcheck(t, err, "structure")
			if p.HasOffsets() != want {
				t.Fatalf("message %d: offsets %v, want %v", i+1, p.HasOffsets(), want)
			}
		}

		find := func(ctx context.Context, needle string) ([]uint32, []string, error) {
			var subtypes []string
			pg, err := s.Summaries(ctx, john, inbox.ID, store.SummaryQuery{MaxScan: 100, Deadline: time.Now().Add(time.Minute),
				Body: func(sub, text string) bool {
					subtypes = append(subtypes, sub)
					return strings.Contains(strings.ToLower(text), needle)
				}})
			if err != nil {
				return nil, nil, err
			}
			var uids []uint32
			for _, m := range pg.Messages {
				uids = append(uids, m.UID)
			}
			return uids, subtypes, nil
		}
		for _, c := range []struct {
			needle string
			want   []uint32
		}{
			{"привет", []uint32{1}},         // koi8-r, decoded
			{"<p>giraffe</p>", []uint32{1}}, // base64 text/html, decoded
			{"inner body", nil},             // in an attached message
			{"ueSDBBQ", nil},                // the attachment's bytes
			{"walrus", []uint32{2}},         // walked: no offsets
			{"never closed", []uint32{2}},
			{"part 899\r\n", []uint32{3}},
		} {
			cb.n.Store(0)
			got, subtypes, err := find(ctx, strings.ToLower(c.needle))
			tcheck(t, err, "search "+c.needle)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%q found in %v, want %v", c.needle, got, c.want)
			}
			if c.needle == "ueSDBBQ" {
				// Every text part read (and message 3's 900), the zip not.
				if n := cb.n.Load(); n > int64(len(cut)+len(many.String())+2000) {
					t.Errorf("search read %d bytes: the attachment was read", n)
				}
				// Newest first: 900 parts, 2 walked, then plain and html.
				if len(subtypes) != 900+2+2 || fmt.Sprint(subtypes[len(subtypes)-2:]) != "[plain html]" {
					t.Errorf("parts searched ...%v (%d)", subtypes[max(0, len(subtypes)-4):], len(subtypes))
				}
			}
		}

		// The request ends while the 900 parts are read: the search ends
		// with the context's error.
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		_, err = s.Summaries(cctx, john, inbox.ID, store.SummaryQuery{MaxScan: 100, Deadline: time.Now().Add(time.Minute),
			Body: func(string, string) bool {
				if n++; n == 10 {
					cancel()
				}
				return false
			}})
		if !errors.Is(err, context.Canceled) || n != 10 {
			t.Errorf("cancelled after 10 parts: %v, %d parts read", err, n)
		}
	})
}

// leafOf is one leaf as WalkMessage handed it out.
type leafOf struct{ Type, Body string }

// TestWalkMessage: a message is read leaf by leaf through the offsets
// recorded at delivery, the same leaves a message without them gives
// through the walker; only the leaves visited are read; a walk stops at
// the MIME limits, when the request ends (within a leaf too), and never
// reaches another mailbox's message.
func TestWalkMessage(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		_, john, ann := env(t, db)
		files, err := blob.NewFiles(t.TempDir())
		tcheck(t, err, "blobs")
		cb := &countingBlobs{Store: files}
		s := store.New(db, cb, store.Options{})
		parts := "--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n" +
			"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=a.zip\r\n\r\nPK\r\n" +
			"--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--c--\r\n" +
			"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
		whole := "Subject: mixed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + "--b--\r\n"
		cut := "Subject: mixed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts // never closed: no offsets
		var many strings.Builder
		many.WriteString("Subject: many\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n")
		for i := range 5000 {
			fmt.Fprintf(&many, "--m\r\nContent-Type: text/plain\r\n\r\npart %d %s\r\n", i, strings.Repeat("x", 100))
		}
		many.WriteString("--m--\r\n")
		var deep strings.Builder
		deep.WriteString("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n--b0\r\nContent-Type: text/plain\r\n\r\nfirst\r\n")
		for i := range 200 {
			fmt.Fprintf(&deep, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
		}
		deep.WriteString("--b200\r\nContent-Type: text/plain\r\n\r\ndeepest\r\n")
		for _, m := range []string{whole, cut, many.String(), deep.String()} {
			deliver(t, s, m, store.Rcpt{MailboxID: john, Prefix: "Delivered-To: john@example.test\r\n"})
		}
		inbox := mustFolder(t, s, john, "INBOX")
		walk := func(ctx context.Context, uid uint32, stopAt int) ([]leafOf, textproto.Header, error) {
			var got []leafOf
			h, err := s.WalkMessage(ctx, john, inbox.ID, uid, func(h textproto.Header, body io.Reader) error {
				if len(got) == stopAt {
					return io.ErrShortBuffer
				}
				b, err := io.ReadAll(body)
				got = append(got, leafOf{h.Get("Content-Type"), string(b)})
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = nil // the part cut off by the message's end
				}
				return err
			})
			return got, h, err
		}
		want := []leafOf{{"text/plain; charset=koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4"}, {"application/zip", "PK"},
			{"text/html", "<p>hi</p>"}, {"message/rfc822", "Subject: inner\r\n\r\ninner body"}}
		for uid := uint32(1); uid <= 2; uid++ {
			got, h, err := walk(ctx, uid, -1)
			tcheck(t, err, "walk")
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) || h.Get("Subject") != "mixed" || h.Get("Delivered-To") != "john@example.test" {
				t.Errorf("message %d: %q, header %v", uid, got, h)
			}
		}

		// Only the leaves visited are read.
		cb.n.Store(0)
		got, _, err := walk(ctx, 3, 1000)
		if !errors.Is(err, io.ErrShortBuffer) || len(got) != 1000 || got[999].Body != "part 999 "+strings.Repeat("x", 100) {
			t.Errorf("stopped at 1000: %v, %d leaves", err, len(got))
		}
		if n := cb.n.Load(); n > int64(many.Len())/4 {
			t.Errorf("read %d of %d bytes for the first 1,000 leaves", n, many.Len())
		}

		// Past the MIME limits: the leaves before them, then ErrMIMELimit.
		got, _, err = walk(ctx, 4, -1)
		if !errors.Is(err, store.ErrMIMELimit) || len(got) != 1 || got[0].Body != "first" {
			t.Errorf("deep: %v, %q", err, got)
		}

		// The request ends: between leaves and within one.
		for uid := uint32(2); uid <= 3; uid++ {
			cctx, cancel := context.WithCancel(ctx)
			n := 0
			cb.n.Store(0)
			_, err = s.WalkMessage(cctx, john, inbox.ID, uid, func(h textproto.Header, body io.Reader) error {
				if n++; n == 2 {
					cancel()
				}
				_, err := io.Copy(io.Discard, body)
				return err
			})
			if !errors.Is(err, context.Canceled) || n > 3 {
				t.Errorf("message %d cancelled: %v after %d leaves", uid, err, n)
			}
		}

		// Another mailbox's message.
		if _, err := s.WalkMessage(ctx, ann, inbox.ID, 1, func(textproto.Header, io.Reader) error { return nil }); !errors.Is(err, store.ErrNoMessage) {
			t.Errorf("another mailbox's message: %v", err)
		}
	})
}
