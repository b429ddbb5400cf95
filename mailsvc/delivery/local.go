package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// DeliverLocal delivers a message Postdesk wrote itself, such as the
// outbound queue's delivery status notifications, through the same rules
// as mail received over SMTP: local recipients are stored at once, any
// remote part is queued (kind KindDSN). from is the envelope sender, ""
// for the null sender; body is the whole message, header included.
func (d *Deliverer) DeliverLocal(ctx context.Context, from string, rcpts []string, body io.Reader) error {
	fp, err := address.ParseReversePath(from)
	if err != nil {
		return fmt.Errorf("deliver local: sender: %w", err)
	}
	var rs []Recipient
	for _, to := range rcpts {
		p, err := address.ParseForwardPath(to)
		if err != nil {
			return fmt.Errorf("deliver local: recipient: %w", err)
		}
		r, err := d.Resolve(ctx, fp, p)
		if err != nil && !errors.Is(err, tenants.ErrNotHosted) {
			return fmt.Errorf("deliver local to %s: %w", to, err)
		}
		if r.Plan == nil && r.List == nil && r.Remote.IsZero() {
			return fmt.Errorf("deliver local to %s: %w", to, tenants.ErrNotHosted)
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return errors.New("deliver local: no recipients")
	}
	b, err := d.newBlob(ctx, body, d.maxGen)
	if err != nil {
		return fmt.Errorf("deliver local: %w", err)
	}
	if _, err := d.Deliver(ctx, &Message{From: fp, Blob: b, Rcpts: rs, Kind: KindDSN}); err != nil {
		return fmt.Errorf("deliver local: %w", err)
	}
	return nil
}
