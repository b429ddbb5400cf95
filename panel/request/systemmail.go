package request

import (
	"context"
	"io"
	"time"

	"github.com/postdesk/postdesk/tenants"
)

// SystemMail is the system mailbox as the administrator's panel reads it:
// postmaster mail that no domain and no administrator gave a mailbox to
// (tenants.SystemMailbox). It belongs to no tenant; only a scope reaching
// every domain may read it. cmd/postdesk adapts mailsvc/store's methods.
// A message that is not there is tenants.ErrNotFound.
type SystemMail interface {
	SystemMessages(ctx context.Context, sc tenants.Scope, limit, offset int) ([]SystemMessage, int64, error)
	// SystemMessage returns one message and a reader of it (trace
	// header lines, then the message), which the caller closes.
	SystemMessage(ctx context.Context, sc tenants.Scope, id int64) (*SystemMessage, io.ReadCloser, error)
	DeleteSystemMessage(ctx context.Context, sc tenants.Scope, id int64) error
}

// SystemMessage is one message of the system mailbox.
type SystemMessage struct {
	ID         int64
	Subject    string
	From       string
	To         string
	Size       int64
	ReceivedAt time.Time
}
