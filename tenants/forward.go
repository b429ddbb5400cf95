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

// MaxRemoteForwards bounds the forwards of one mailbox to other servers:
// each message such a mailbox receives leaves again once per remote
// forward, so many of them would make it a relay.
const MaxRemoteForwards = 10

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
// other local mailboxes' forwards, are refused, and so are more than
// MaxRemoteForwards to domains not hosted here.
func (s *Service) SetForwards(ctx context.Context, sc Scope, a address.Address, to []address.Address, storeMail bool) error {
	uniq, list, err := checkForwards(to, storeMail)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		return s.setForwardsTx(tx, sc, a, uniq, list, storeMail)
	})
}

// checkForwards checks forwards as given and returns them once each.
func checkForwards(to []address.Address, storeMail bool) ([]address.Address, []string, error) {
	if len(to) > MaxForwards {
		return nil, nil, invalid("addresses", "at most %d forwards", MaxForwards)
	}
	if !storeMail && len(to) == 0 {
		return nil, nil, invalid("store_mail", "with no forwards the mailbox must store mail, or accepted mail would vanish")
	}
	seen := map[string]bool{}
	var list []string
	var uniq []address.Address
	for _, t := range to {
		if t.IsZero() {
			return nil, nil, invalid("addresses", "an empty address")
		}
		k := t.String()
		if !seen[k] {
			seen[k] = true
			list = append(list, k)
			uniq = append(uniq, t)
		}
	}
	return uniq, list, nil
}

// setForwardsTx is SetForwards' change in tx, after its checks of the
// input (uniq: the addresses once each, list: their strings).
func (s *Service) setForwardsTx(tx *gorm.DB, sc Scope, a address.Address, uniq []address.Address, list []string, storeMail bool) error {
	m, err := s.mailboxTx(tx, sc, a)
	if err != nil {
		return err
	}
	if sc.Role == RoleUser && !m.MayForward {
		return fmt.Errorf("this mailbox may not set its own forwards: %w", ErrForbidden)
	}
	remote := 0
	for _, t := range uniq {
		_, _, list, err := s.lookup(tx.Statement.Context, tx, t)
		switch {
		case err == nil && list != nil:
			// Delivery never posts a forwarded message to a list
			// (it would post as whoever wrote to the mailbox).
			return invalid("addresses", "%s is a mailing list's address; a forward can't post to a list", t)
		case errors.Is(err, ErrNotHosted):
			remote++
		case err != nil && !errors.Is(err, ErrNoSuchUser) && !errors.Is(err, ErrDisabled):
			return err
		}
	}
	if remote > MaxRemoteForwards {
		return invalid("addresses", "at most %d forwards to other servers", MaxRemoteForwards)
	}
	walk := &forwardWalk{s: s, tx: tx, origin: m.ID, visited: map[int64]bool{}}
	for _, t := range uniq {
		back, err := walk.leadsBack(t)
		if err != nil {
			return err
		}
		if back {
			// The path may pass through other tenants' mailboxes:
			// say only that it would loop, naming nothing but the
			// caller's own input.
			return invalid("addresses", "a forward to %s would loop", t)
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
}

// maxForwardLookups bounds the work of one loop check, so that forwards
// through many subaddresses of many mailboxes can't hold the write lock
// for long.
const maxForwardLookups = 5000

// forwardWalk checks whether forwards lead back to the origin mailbox. It
// visits each mailbox once (subaddresses and aliases of one mailbox are
// one node), so its work grows with the number of mailboxes reached, not
// with the number of paths.
type forwardWalk struct {
	s       *Service
	tx      *gorm.DB
	origin  int64
	visited map[int64]bool
	lookups int
}

func (w *forwardWalk) leadsBack(start address.Address) (bool, error) {
	queue := []address.Address{start}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		w.lookups++
		if w.lookups > maxForwardLookups {
			return false, invalid("addresses", "these forwards lead through too many mailboxes to check for loops")
		}
		// Follow the address as delivery would: aliases, alias domains,
		// subaddresses, postmaster and catchrest included.
		id, _, err := w.s.lookupRecipient(w.tx.Statement.Context, w.tx, t)
		if errors.Is(err, ErrNotHosted) || errors.Is(err, ErrNoSuchUser) || errors.Is(err, ErrDisabled) {
			continue // not delivered here: the chain ends
		}
		if err != nil {
			return false, err
		}
		if id == w.origin {
			return true, nil
		}
		if w.visited[id] {
			continue
		}
		w.visited[id] = true
		var fs []string
		if err := w.tx.Model(&forwardRow{}).Where("mailbox_id = ?", id).Pluck("address", &fs).Error; err != nil {
			return false, fmt.Errorf("follow forwards: %w", err)
		}
		for _, f := range fs {
			if next, err := address.ParseAddress(f); err == nil {
				queue = append(queue, next)
			}
		}
	}
	return false, nil
}

// BounceForwarder returns the mailbox whose remote forward an SRS address
// was issued for (mailsvc/delivery), if a bounce to that address may still
// be returned through it: the mailbox exists, it and its domain are
// active and not expired, it may send, and it still forwards to another
// server. A returned bounce is mail this server sends for the mailbox, so
// it needs what the forward needed. Errors: ErrNoSuchUser (gone),
// ErrDisabled (disabled or expired), ErrForbidden (may not send, or no
// remote forward any more).
func (s *Service) BounceForwarder(ctx context.Context, mailboxID int64) (*Target, error) {
	db := s.db.Read(ctx)
	var m Mailbox
	err := db.Take(&m, mailboxID).Error
	if notFound(err) {
		return nil, fmt.Errorf("mailbox %d: %w", mailboxID, ErrNoSuchUser)
	}
	if err != nil {
		return nil, fmt.Errorf("look up mailbox %d: %w", mailboxID, err)
	}
	var d Domain
	if err := db.Take(&d, m.DomainID).Error; err != nil {
		return nil, fmt.Errorf("look up domain %d: %w", m.DomainID, err)
	}
	own := address.Address{Local: address.Localpart(m.LocalPart), Domain: address.Domain(d.Name)}
	if !d.Active || !m.Active || m.Expired(s.clock()) {
		return nil, fmt.Errorf("%s: %w", own, ErrDisabled)
	}
	if !m.MaySend {
		return nil, fmt.Errorf("%s may not send: %w", own, ErrForbidden)
	}
	var fs []string
	if err := db.Model(&forwardRow{}).Where("mailbox_id = ?", m.ID).Order("id").Pluck("address", &fs).Error; err != nil {
		return nil, fmt.Errorf("read forwards: %w", err)
	}
	for _, f := range fs {
		a, err := address.ParseAddress(f)
		if err != nil {
			continue
		}
		if _, _, err := s.lookupRecipient(ctx, db, a); errors.Is(err, ErrNotHosted) {
			return &Target{MailboxID: m.ID, DomainID: d.ID, Address: own, QuotaBytes: EffectiveQuota(&m, &d)}, nil
		}
	}
	return nil, fmt.Errorf("%s forwards to no other server: %w", own, ErrForbidden)
}
