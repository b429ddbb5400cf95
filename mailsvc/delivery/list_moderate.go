package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// HeldTable holds lists' posts waiting for a moderator; each row keeps its
// blob alive (store.Options.BlobRefs).
const HeldTable = "list_held"

// MaxHeldPerList bounds the posts one list holds: past it, posts that
// would be held are refused for now (ErrMailboxFull), so that nobody fills
// the disk through a list that holds strangers' posts.
const MaxHeldPerList = 1000

// heldRow is a post held for a list's moderators.
type heldRow struct {
	ID         int64
	ListID     int64
	BlobKey    string
	MailFrom   string
	Subject    string
	Size       int64
	ReceivedAt time.Time
	ExpiresAt  time.Time
}

func (heldRow) TableName() string { return HeldTable }

// heldPost is a post of this delivery to hold; id is set in the
// transaction.
type heldPost struct {
	lt      *tenants.ListTarget
	from    string
	subject string
	size    int64
	id      int64
}

// holdPost holds m for lt's moderators: a row in the delivery's
// transaction, then a notice to each moderator with signed approve and
// reject links. The notice names the poster and the subject only.
func (d *Deliverer) holdPost(ctx context.Context, m *Message, lt *tenants.ListTarget, w *listWork) error {
	var n int64
	if err := d.store.DB().Read(ctx).Model(&heldRow{}).Where("list_id = ?", lt.List.ID).Count(&n).Error; err != nil {
		return fmt.Errorf("count held posts: %w", err)
	}
	if n >= MaxHeldPerList {
		return fmt.Errorf("list %s holds %d posts: %w", lt.Address, n, ErrMailboxFull)
	}
	subject := oneLine(m.Header.Fields.Get("Subject"))
	if len(subject) > 200 {
		subject = subject[:200]
	}
	h := &heldPost{lt: lt, from: m.From.String(), subject: strings.ToValidUTF8(subject, "?"), size: m.Blob.Size()}
	w.holds = append(w.holds, h)
	w.after = append(w.after, func(ctx context.Context) { d.notifyModerators(ctx, h) })
	return nil
}

// insertHeld writes the rows of the posts held by this delivery.
func (w *listWork) insertHeld(tx *gorm.DB, key string, now time.Time) error {
	for _, h := range w.holds {
		r := heldRow{ListID: h.lt.List.ID, BlobKey: key, MailFrom: h.from, Subject: h.subject, Size: h.size,
			ReceivedAt: now, ExpiresAt: now.Add(tenants.HeldPostTTL)}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("hold post for %s: %w", h.lt.Address, err)
		}
		h.id = r.ID
	}
	return nil
}

func (d *Deliverer) notifyModerators(ctx context.Context, h *heldPost) {
	log := d.log.With("list", h.lt.Address.String(), "held", h.id)
	mods, err := d.tenants.ListModerators(ctx, &h.lt.List)
	if err != nil || len(mods) == 0 {
		log.WarnContext(ctx, "held post: no moderator to tell", "err", err)
		return
	}
	var text strings.Builder
	text.WriteString("A post to " + h.lt.Address.String() + " waits for a moderator.\r\n\r\n")
	text.WriteString("From: " + h.from + "\r\nSubject: " + h.subject + "\r\n\r\n")
	if d.publicURL == "" {
		text.WriteString("Approve or reject it in the panel.\r\n")
	} else {
		for _, a := range []string{tenants.ModerateApprove, tenants.ModerateReject} {
			tok, err := d.tenants.ModerationToken(ctx, &h.lt.List, h.id, a)
			if err != nil {
				log.WarnContext(ctx, "held post: no moderation link", "err", err)
				return
			}
			text.WriteString(strings.ToUpper(a[:1]) + a[1:] + ": " + d.publicURL + "/lists/m/" + tok + "\r\n")
		}
	}
	text.WriteString("\r\nUnanswered, it is dropped after 7 days.\r\n")
	d.sendListNotice(ctx, h.lt, mods, "Post held for moderation: "+h.lt.Address.String(), "", text.String())
}

// HeldPost says what a moderation link would do, without doing it:
// tenants.ErrBadToken for a forged link or a post moderated already.
func (d *Deliverer) HeldPost(ctx context.Context, token string) (*tenants.ListChange, error) {
	lt, id, action, err := d.tenants.ModerationOf(ctx, token)
	if err != nil {
		return nil, err
	}
	var row heldRow
	err = d.store.DB().Read(ctx).Where("id = ? AND list_id = ?", id, lt.List.ID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, tenants.ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up held post: %w", err)
	}
	return &tenants.ListChange{List: lt.Address.String(), Address: row.MailFrom, Action: action, Subject: row.Subject}, nil
}

// Moderate approves or rejects the held post a moderation link's token
// names: approved, it is distributed as if the member had posted it then
// (its row removed in the same transaction, so that it goes out once);
// rejected, it is dropped. A used link (the post is gone) is
// tenants.ErrBadToken, as a forged one.
func (d *Deliverer) Moderate(ctx context.Context, token, remote string) (*tenants.ListChange, error) {
	lt, id, action, err := d.tenants.ModerationOf(ctx, token)
	if err != nil {
		return nil, err
	}
	var row heldRow
	err = d.store.DB().Read(ctx).Where("id = ? AND list_id = ?", id, lt.List.ID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, tenants.ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up held post: %w", err)
	}
	ch := &tenants.ListChange{List: lt.Address.String(), Address: row.MailFrom, Action: action}
	log := d.log.With("list", lt.Address.String(), "held", id, "action", action, "remote", remote)
	if action == tenants.ModerateReject {
		res := d.store.DB().Write(ctx, func(tx *gorm.DB) error {
			r := tx.Where("id = ?", id).Delete(&heldRow{})
			if r.Error == nil && r.RowsAffected == 0 {
				return tenants.ErrBadToken
			}
			return r.Error
		})
		if res != nil {
			return nil, res
		}
		log.InfoContext(ctx, "held post rejected")
		return ch, nil
	}
	from, err := address.ParseReversePath(row.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("held post's sender %q: %w", row.MailFrom, err)
	}
	src, err := d.store.Blobs().Open(ctx, row.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open held post: %w", err)
	}
	b, err := d.newBlob(ctx, src, row.Size)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("copy held post: %w", err)
	}
	m := &Message{From: from, Blob: b, Rcpts: []Recipient{{Address: lt.Address, List: lt}}, heldID: id}
	if _, err := d.Deliver(ctx, m); err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "held post approved")
	return ch, nil
}

// ExpireHeld drops held posts past their time, with a notice to each
// poster (the null sender, no copy of the post), and returns how many.
func (d *Deliverer) ExpireHeld(ctx context.Context) (int, error) {
	var rows []heldRow
	if err := d.store.DB().Read(ctx).Where("expires_at <= ?", d.now()).Order("id").Limit(500).Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("read expired held posts: %w", err)
	}
	n := 0
	for _, r := range rows {
		var gone bool
		err := d.store.DB().Write(ctx, func(tx *gorm.DB) error {
			res := tx.Where("id = ?", r.ID).Delete(&heldRow{})
			gone = res.RowsAffected == 1
			return res.Error
		})
		if err != nil {
			return n, fmt.Errorf("drop held post %d: %w", r.ID, err)
		}
		if !gone {
			continue
		}
		n++
		lt, err := d.tenants.ListTarget(ctx, r.ListID)
		if err != nil || r.MailFrom == "" {
			continue
		}
		d.sendListNotice(ctx, lt, []string{r.MailFrom}, "Your post to "+lt.Address.String()+" was not approved",
			"", "Your post to "+lt.Address.String()+" (subject: "+r.Subject+") waited for a moderator for 7 days and was dropped.\r\n")
	}
	return n, nil
}

// RunHeldExpiry drops expired held posts every interval until ctx ends.
func (d *Deliverer) RunHeldExpiry(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := d.ExpireHeld(ctx); err != nil {
				d.log.WarnContext(ctx, "held post expiry", "err", err)
			} else if n > 0 {
				d.log.InfoContext(ctx, "held posts expired", "dropped", n)
			}
		}
	}
}

// HeldPosts returns the posts list l holds, oldest first, for the panel,
// whose approve and reject buttons go through Moderate as the links do.
func (d *Deliverer) HeldPosts(ctx context.Context, l *tenants.List) ([]tenants.HeldPost, error) {
	var rows []heldRow
	if err := d.store.DB().Read(ctx).Where("list_id = ?", l.ID).Order("id").Limit(MaxHeldPerList).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read held posts of list %d: %w", l.ID, err)
	}
	out := make([]tenants.HeldPost, len(rows))
	for i, r := range rows {
		out[i] = tenants.HeldPost{ID: r.ID, From: r.MailFrom, Subject: r.Subject, Size: r.Size, ReceivedAt: r.ReceivedAt, ExpiresAt: r.ExpiresAt}
	}
	return out, nil
}
