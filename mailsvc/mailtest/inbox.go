package mailtest

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// Inbox returns the messages in a mailbox's INBOX as a client reads them:
// the stored prefix, then the body. A mailbox whose folders were never
// made holds none.
func Inbox(t testing.TB, ctx context.Context, st *store.Store, mailboxID int64) []string {
	t.Helper()
	return Folder(t, ctx, st, mailboxID, "INBOX")
}

// Folder returns the messages in one folder of a mailbox, as Inbox does.
func Folder(t testing.TB, ctx context.Context, st *store.Store, mailboxID int64, name string) []string {
	t.Helper()
	f, err := st.Folder(ctx, mailboxID, name)
	if errors.Is(err, store.ErrNoFolder) {
		return nil
	}
	if err != nil {
		t.Fatalf("%s of mailbox %d: %v", name, mailboxID, err)
	}
	ms, err := st.Messages(ctx, f.ID, nil)
	if err != nil {
		t.Fatalf("messages of mailbox %d: %v", mailboxID, err)
	}
	var out []string
	for i := range ms {
		r, err := st.Open(ctx, &ms[i])
		if err != nil {
			t.Fatalf("open message %d: %v", ms[i].ID, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("read message %d: %v", ms[i].ID, err)
		}
		out = append(out, string(b))
	}
	return out
}
