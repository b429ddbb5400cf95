package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// MaxForwards bounds the forwards of one mailbox.
const MaxForwards = 100

// Forwards returns a mailbox's forward addresses and its store-mail switch.
func (s *Service) Forwards(ctx context.Context, sc Scope, a address.Address) ([]string, bool, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, false, err
	}
	var fs []string
	if err := db.Model(&forwardRow{}).Where("mailbox_id = ?", m.ID).Order("id").Pluck("address", &fs).Error; err != nil {
		return nil, false, fmt.Errorf("list forwards: %w", err)
	}
	return fs, m.StoreMail, nil
}

// SetForwards replaces a mailbox's forwards and sets its store-mail switch.
// With store mail off there must be a forward, so accepted mail never
// vanishes. Forwards to the mailbox itself, or that lead back to it through
// other local mailboxes' forwards, are refused.
func (s *Service) SetForwards(ctx context.Context, sc Scope, a address.Address, to []address.Address, storeMail bool) error {
	if len(to) > MaxForwards {
		return invalid("addresses", "at most %d forwards", MaxForwards)
	}
	if !storeMail && len(to) == 0 {
		return invalid("store_mail", "with no forwards the mailbox must store mail, or accepted mail would vanish")
	}
	seen := map[string]bool{}
	var list []string
	for _, t := range to {
		if t.IsZero() {
			return invalid("addresses", "an empty address")
		}
		k := t.String()
		if !seen[k] {
			seen[k] = true
			list = append(list, k)
		}
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if sc.Role == RoleUser && !m.MayForward {
			return fmt.Errorf("this mailbox may not set its own forwards: %w", ErrForbidden)
		}
		for _, t := range to {
			path, err := s.forwardPath(tx, m.ID, t, 0)
			if err != nil {
				return err
			}
			if path != nil {
				// The path may pass through other tenants' addresses:
				// name only the caller's own two.
				return invalid("addresses", "forward loop: mail forwarded to %s comes back to %s", t, a)
			}
		}
		if err := tx.Where("mailbox_id = ?", m.ID).Delete(&forwardRow{}).Error; err != nil {
			return fmt.Errorf("clear forwards: %w", err)
		}
		for _, f := range list {
			if err := tx.Create(&forwardRow{MailboxID: m.ID, Address: f}).Error; err != nil {
				return fmt.Errorf("insert forward: %w", err)
			}
		}
		if m.StoreMail != storeMail {
			if err := tx.Model(&Mailbox{}).Where("id = ?", m.ID).Updates(map[string]any{"store_mail": storeMail, "updated_at": s.clock()}).Error; err != nil {
				return fmt.Errorf("set store mail: %w", err)
			}
		}
		return s.audit(tx, sc, &m.DomainID, "forwards.set", "%s: [%s] store_mail=%t", a, strings.Join(list, " "), storeMail)
	})
}

// forwardPath follows forwards from t; it returns the path back to the
// mailbox origin if one exists (an empty, non-nil slice when t is origin),
// nil if none. Remote addresses end a path.
func (s *Service) forwardPath(tx *gorm.DB, origin int64, t address.Address, depth int) ([]string, error) {
	if depth > 20 {
		return nil, nil
	}
	// Follow the address as delivery would: aliases, alias domains,
	// subaddresses, postmaster and catchrest included.
	id, _, err := s.lookupRecipient(tx.Statement.Context, tx, t)
	if errors.Is(err, ErrNotHosted) || errors.Is(err, ErrNoSuchUser) || errors.Is(err, ErrDisabled) {
		return nil, nil // not delivered here: the chain ends
	}
	if err != nil {
		return nil, err
	}
	m := &Mailbox{ID: id}
	if m.ID == origin {
		return []string{}, nil
	}
	var fs []string
	if err := tx.Model(&forwardRow{}).Where("mailbox_id = ?", m.ID).Pluck("address", &fs).Error; err != nil {
		return nil, fmt.Errorf("follow forwards: %w", err)
	}
	for _, f := range fs {
		next, err := address.ParseAddress(f)
		if err != nil {
			continue
		}
		p, err := s.forwardPath(tx, origin, next, depth+1)
		if err != nil {
			return nil, err
		}
		if p != nil {
			return append([]string{f}, p...), nil
		}
	}
	return nil, nil
}
