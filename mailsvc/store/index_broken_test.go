package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// brokenMessages break the MIME rules the way mail in the wild does; real
// servers accept them all, and so must delivery.
var brokenMessages = map[string]string{
	// A multipart cut off before its closing boundary (a truncated
	// message): its last part runs to the end.
	"truncated multipart": toCRLF("Subject: cut\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\nJVBERi0x"),
	// The same with a line end at the very end, which go-message leaves
	// out of the part (it could begin a boundary line).
	"truncated multipart, line end": toCRLF("Subject: cut\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: text/plain\n\ncut off\n"),
	// Cut off in a nested multipart, inside an outer one that also
	// never closes.
	"truncated nested": toCRLF("Subject: nested\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\nplain\n--inner\nContent-Type: text/html\n\n<p>cut"),
	// A nested multipart that never closes, inside an outer one that does.
	"unclosed inner": toCRLF("Subject: inner\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\nplain\n--outer\nContent-Type: text/plain\n\nafter\n--outer--\n"),
	// Cut off inside an encapsulated message.
	"truncated rfc822": toCRLF("Subject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\n\ninner te"),
	// Cut off in a part's header.
	"truncated part header": toCRLF("Subject: cut\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: text/pl"),
	// Cut off right after the opening boundary line.
	"only a boundary": toCRLF("Subject: cut\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"),
	"broken base64":   toCRLF("Subject: b64\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n!!!not*base64@@@\n====\n"),
	"no colon":        toCRLF("Subject: x\nthis line has no colon\nFrom: a@example.test\n\nbody\n"),
	"NUL bytes":       "Subject: n\x00ul\r\nFrom: A\x00 <a@example.test>\r\nX-Nul: a\x00b\r\n\r\nbo\x00dy\r\n",
	"only a header":   "Subject: only a header\r\nFrom: a@example.test",
	"8-bit junk":      "Subject: caf\xe9 \xff\xfe\r\nFrom: J\xf6rg <j@example.test>\r\nTo: \xc3\x28 <k@example.test>\r\nContent-Type: text/plain; name=\"\xff\"\r\n\r\nbody \xff\xfe\r\n",
	"empty":           "",
	"bare LF junk":    "\n\n\n--\r\r\r--b--\n",
}

// TestIndexBroken: Index reads every broken message without an error,
// into metadata a text column can hold.
func TestIndexBroken(t *testing.T) {
	for name, msg := range brokenMessages {
		t.Run(name, func(t *testing.T) {
			m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
			if err != nil {
				t.Fatalf("index: %v", err)
			}
			checkStorable(t, m)
		})
	}
}

func checkStorable(t *testing.T, m *store.Meta) {
	t.Helper()
	for what, s := range map[string]string{"header": string(m.Header), "subject": m.Subject, "from": m.From,
		"to": m.To, "cc": m.Cc, "message-id": m.MessageID} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Errorf("%s %q is not storable in a text column", what, s)
		}
	}
}

// TestIndexTruncated: a multipart without its closing boundary keeps the
// parts go-message reads (go-imap's structure extractor is the reference),
// the last running to the end of the message, and no part offsets.
func TestIndexTruncated(t *testing.T) {
	for _, name := range []string{"truncated multipart", "truncated multipart, line end", "truncated nested",
		"unclosed inner", "truncated rfc822", "truncated part header", "only a boundary"} {
		t.Run(name, func(t *testing.T) {
			msg := brokenMessages[name]
			m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
			tcheck(t, err, "index")
			walkParts(&m.Structure, func(p *store.Part) {
				if p.HasOffsets() || p.HeaderStart != 0 || p.BodyStart != 0 {
					t.Errorf("%s/%s keeps offsets", p.Type, p.Subtype)
				}
			})
			want := shape(imapserver.ExtractBodyStructure(strings.NewReader(msg)))
			if got := shape(m.Structure.IMAP()); got != want {
				t.Errorf("structure\n got %s\nwant %s", got, want)
			}
		})
	}
	// The first example in detail: the parts, the last one to the end.
	msg := brokenMessages["truncated multipart"]
	m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
	tcheck(t, err, "index")
	s := m.Structure
	if s.Type != "multipart" || len(s.Children) != 2 || s.Children[0].Size != 5 || m.Subject != "cut" {
		t.Fatalf("structure %+v", s)
	}
	if last := s.Children[1]; last.Subtype != "pdf" || last.Size != int64(len("JVBERi0xLjQK\r\nJVBERi0x")) {
		t.Fatalf("last part %+v", last)
	}
}

// shape writes the parts of a body structure that go-imap's extractor and
// the stored structure have in common: types, sizes, line counts and
// encapsulated messages, nested as they are.
func shape(bs imap.BodyStructure) string {
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		var b strings.Builder
		fmt.Fprintf(&b, "(multipart/%s", strings.ToLower(bs.Subtype))
		for _, c := range bs.Children {
			b.WriteString(" " + shape(c))
		}
		return b.String() + ")"
	case *imap.BodyStructureSinglePart:
		s := fmt.Sprintf("%s/%s %d", strings.ToLower(bs.Type), strings.ToLower(bs.Subtype), bs.Size)
		if bs.Text != nil {
			s += fmt.Sprintf(" %dL", bs.Text.NumLines)
		}
		if bs.MessageRFC822 != nil {
			s += " [" + bs.MessageRFC822.Envelope.Subject + " " + shape(bs.MessageRFC822.BodyStructure) + "]"
		}
		return "(" + s + ")"
	}
	return "?"
}

// failingReader fails every read that reaches past off.
type failingReader struct {
	r   io.ReaderAt
	off int64
}

var errDisk = errors.New("disk on fire")

func (f failingReader) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > f.off {
		return 0, errDisk
	}
	return f.r.ReadAt(b, off)
}

// TestIndexReadError: failing to read the message is the one error Index
// returns, wherever in the message it happens.
func TestIndexReadError(t *testing.T) {
	msg := brokenMessages["truncated nested"]
	for _, off := range []int64{0, 10, 60, 120, int64(len(msg)) - 3} {
		_, err := store.Index(failingReader{strings.NewReader(msg), off}, int64(len(msg)))
		if !errors.Is(err, errDisk) {
			t.Errorf("read failing at %d: %v", off, err)
		}
	}
}

// TestDeliverBroken: each broken message is delivered, on both engines
// (PostgreSQL refuses NUL bytes and invalid UTF-8 in text columns), and
// reads back as it came.
func TestDeliverBroken(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, john, _ := env(t, db)
		for name, msg := range brokenMessages {
			p, err := s.Blobs().Create(ctx)
			tcheck(t, err, "create blob")
			io.WriteString(p, msg)
			res, err := s.Deliver(ctx, &store.Delivery{Blob: p, Rcpts: []store.Rcpt{{MailboxID: john}}})
			if err != nil {
				t.Errorf("%s: deliver: %v", name, err)
				continue
			}
			tcheck(t, res.Errs[0], name)
			inbox := mustFolder(t, s, john, "INBOX")
			m, err := s.Message(ctx, john, inbox.ID, res.UIDs[0])
			tcheck(t, err, name)
			r, err := s.Open(ctx, m)
			tcheck(t, err, name)
			got, _ := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(got, []byte(msg)) {
				t.Errorf("%s: read back %q", name, got)
			}
		}
	})
}

// FuzzIndexAccepts: Index accepts whatever it is given, into storable
// metadata.
func FuzzIndexAccepts(f *testing.F) {
	for _, m := range brokenMessages {
		f.Add(m)
	}
	for _, m := range offsetMessages {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		m, err := store.Index(strings.NewReader(msg), int64(len(msg)))
		if err != nil {
			t.Fatalf("index: %v", err)
		}
		checkStorable(t, m)
	})
}
