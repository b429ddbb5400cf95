package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// RequestListChange records a request by mail (LOCAL-subscribe@,
// LOCAL-unsubscribe@) or by a list's page to subscribe or unsubscribe addr,
// and returns the token of its confirmation (double opt-in: the change
// happens only when someone who reads addr's mail answers). token is ""
// when there is nothing to confirm (addr is a member already, or is no
// member to unsubscribe): no mail then, so a list tells a stranger nothing
// about who is subscribed.
//
// Whoever sends the request chooses addr, so a request is what makes us
// mail a stranger: at most MaxListRequestsPerAddress a day to one address
// from one list, and MaxListRequestsPerSource an hour from one source
// (the client's IP address), else ErrListRequestLimit; the confirmation
// says only what was asked, and carries nothing of the request.
func (s *Service) RequestListChange(ctx context.Context, l *List, addr address.Address, action, source string) (string, error) {
	if action != ListRoleSubscribe && action != ListRoleUnsubscribe {
		return "", fmt.Errorf("list request: unknown action %q", action)
	}
	key := strings.ToLower(addr.String())
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	token := strings.ToLower(b32.EncodeToString(raw[:]))
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var m ListMember
		err := tx.Where("list_id = ? AND address = ?", l.ID, key).Take(&m).Error
		if err != nil && !notFound(err) {
			return fmt.Errorf("look up member %s: %w", key, err)
		}
		member := err == nil && m.Member
		if member == (action == ListRoleSubscribe) {
			token = ""
			return nil
		}
		if a, _, _, err := s.listAt(tx, l.DomainID, string(addr.Local)); err != nil {
			return err
		} else if a != nil {
			var d Domain
			if err := tx.Take(&d, l.DomainID).Error; err != nil {
				return fmt.Errorf("look up domain: %w", err)
			}
			if addr.Domain.String() == d.Name {
				// A list's own addresses ask nothing of a list.
				token = ""
				return nil
			}
		}
		now := s.clock()
		var n int64
		if err := tx.Model(&listRequest{}).Where("list_id = ? AND address = ? AND created_at > ?", l.ID, key, now.Add(-24*time.Hour)).
			Count(&n).Error; err != nil {
			return fmt.Errorf("count requests: %w", err)
		}
		if n >= MaxListRequestsPerAddress {
			return fmt.Errorf("%s: %d a day for one address: %w", key, MaxListRequestsPerAddress, ErrListRequestLimit)
		}
		if err := tx.Model(&listRequest{}).Where("source = ? AND created_at > ?", source, now.Add(-time.Hour)).
			Count(&n).Error; err != nil {
			return fmt.Errorf("count requests: %w", err)
		}
		if n >= MaxListRequestsPerSource {
			return fmt.Errorf("source %s: %d an hour: %w", source, MaxListRequestsPerSource, ErrListRequestLimit)
		}
		r := listRequest{ListID: l.ID, Address: key, Action: action, TokenHash: tokenHash(token), Source: source,
			CreatedAt: now, ExpiresAt: now.Add(ListRequestTTL)}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("record request: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(token)))
	return hex.EncodeToString(sum[:])
}

// ListRequestLink says what a confirmation token would do, without doing
// it: ErrBadToken when it is unknown, used or expired.
func (s *Service) ListRequestLink(ctx context.Context, token string) (*ListChange, error) {
	if len(token) < 16 || len(token) > 64 {
		return nil, ErrBadToken
	}
	db := s.db.Read(ctx)
	var r listRequest
	err := db.Where("token_hash = ? AND NOT used AND expires_at > ?", tokenHash(token), s.clock()).Take(&r).Error
	if notFound(err) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up request: %w", err)
	}
	l, d, err := s.listByID(db, r.ListID)
	if err != nil {
		return nil, err
	}
	return &ListChange{List: l.LocalPart + "@" + d.Name, Address: r.Address, Action: r.Action}, nil
}

// ConfirmListRequest carries out the request a confirmation token names,
// once: a used, unknown or expired token is ErrBadToken (one answer for
// all, so that a token can't be probed).
func (s *Service) ConfirmListRequest(ctx context.Context, token, remote string) (*ListChange, error) {
	if len(token) < 16 || len(token) > 64 {
		return nil, ErrBadToken
	}
	var ch *ListChange
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var r listRequest
		err := tx.Where("token_hash = ? AND NOT used AND expires_at > ?", tokenHash(token), s.clock()).Take(&r).Error
		if notFound(err) {
			return ErrBadToken
		}
		if err != nil {
			return fmt.Errorf("look up request: %w", err)
		}
		res := tx.Model(&listRequest{}).Where("id = ? AND NOT used", r.ID).Update("used", true)
		if res.Error != nil {
			return fmt.Errorf("use request: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrBadToken // another process used it just now
		}
		l, d, err := s.listByID(tx, r.ListID)
		if err != nil {
			return err
		}
		ch = &ListChange{List: l.LocalPart + "@" + d.Name, Address: r.Address, Action: r.Action}
		sc := Scope{Role: RoleSystem, Actor: r.Address + " (confirmed by mail)", RemoteAddr: remote}
		if r.Action == ListRoleUnsubscribe {
			_, err := s.removeMemberTx(tx, sc, l, d, r.Address)
			return err
		}
		a, err := address.ParseAddress(r.Address)
		if err != nil {
			return fmt.Errorf("request address %q: %w", r.Address, err)
		}
		var n int64
		if err := tx.Model(&ListMember{}).Where("list_id = ?", l.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count members: %w", err)
		}
		if n >= MaxListMembers {
			return &LimitError{What: "list members", Limit: MaxListMembers}
		}
		return s.addMemberTx(tx, sc, l, d, a)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// HeldPost is a post a list holds for its moderators, as the panel lists
// it (mailsvc/delivery keeps the rows).
type HeldPost struct {
	ID         int64
	From       string // the envelope sender
	Subject    string
	Size       int64
	ReceivedAt time.Time
	ExpiresAt  time.Time
}
