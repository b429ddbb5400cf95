package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/blob"
)

// conformance is the suite every blob backend must pass.
func conformance(t *testing.T, s blob.Store) {
	ctx := context.Background()
	p, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("hello blob\r\n"), 1000)
	if _, err := p.Write(data); err != nil {
		t.Fatal(err)
	}
	if p.Size() != int64(len(data)) {
		t.Fatalf("size %d", p.Size())
	}
	head := make([]byte, 5)
	if _, err := p.ReaderAt().ReadAt(head, 0); err != nil || string(head) != "hello" {
		t.Fatalf("read back before commit: %q %v", head, err)
	}
	if _, err := s.Open(ctx, p.Key()); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("uncommitted blob readable: %v", err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, p.Key())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data) || r.Size() != int64(len(data)) {
		t.Fatalf("read %d bytes, size %d", len(got), r.Size())
	}
	seen := false
	if err := s.Walk(ctx, func(key string, _ time.Time) error {
		seen = seen || key == p.Key()
		return nil
	}); err != nil || !seen {
		t.Fatalf("walk: seen %t, %v", seen, err)
	}
	a, _ := s.Create(ctx)
	a.Write([]byte("x"))
	if err := a.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, a.Key()); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("aborted blob readable: %v", err)
	}
	if err := s.Delete(ctx, p.Key()); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, p.Key()); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Open(ctx, p.Key()); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("deleted blob readable: %v", err)
	}
	if _, err := s.Open(ctx, "../../etc/passwd"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("path key: %v", err)
	}
	if free, err := s.Free(); err != nil || free == 0 {
		t.Fatalf("free %d %v", free, err)
	}
}

func TestFiles(t *testing.T) {
	s, err := blob.NewFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conformance(t, s)
}
