package request

import (
	"context"

	"github.com/postdesk/postdesk/tenants"
)

// ListModeration is lists' moderation (mailsvc/delivery's Deliverer): the
// signed links' HeldPost and Moderate, and the held posts a list's page
// shows, whose buttons moderate through the same Moderate.
type ListModeration interface {
	HeldPost(ctx context.Context, token string) (*tenants.ListChange, error)
	Moderate(ctx context.Context, token, remote string) (*tenants.ListChange, error)
	HeldPosts(ctx context.Context, l *tenants.List) ([]tenants.HeldPost, error)
}
