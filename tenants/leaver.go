package tenants

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Leaver is what a postmaster sets for a departing user in one action.
type Leaver struct {
	// ForwardTo and StoreMail are the mailbox's new forwards and its
	// store-mail switch (store off needs a forward).
	ForwardTo []address.Address
	StoreMail bool
	// Responder is set when Enabled (say where to write instead).
	Responder ResponderInput
}

// Leave turns a departing user's mailbox into a leaver's in one
// transaction: sign-in off (no login on any protocol or the panel; open
// sessions end, mail still arrives), the forwards and store-mail switch
// set, and the responder set when given. A postmaster's or an
// administrator's action; all of it or nothing.
func (s *Service) Leave(ctx context.Context, sc Scope, a address.Address, in Leaver) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	uniq, list, err := checkForwards(in.ForwardTo, in.StoreMail)
	if err != nil {
		return err
	}
	var resp ResponderInput
	if in.Responder.Enabled {
		if resp, err = checkResponder(in.Responder, s.clock()); err != nil {
			return err
		}
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(m.DomainID) {
			return ErrForbidden
		}
		if err := tx.Model(&Mailbox{}).Where("id = ?", m.ID).Updates(map[string]any{"sign_in_off": true, "updated_at": s.clock()}).Error; err != nil {
			return fmt.Errorf("turn sign-in off: %w", err)
		}
		if err := s.setForwardsTx(tx, sc, a, uniq, list, in.StoreMail); err != nil {
			return err
		}
		if in.Responder.Enabled {
			if err := s.setResponderTx(tx, sc, a, resp); err != nil {
				return err
			}
		}
		return s.audit(tx, sc, &m.DomainID, "mailbox.leaver", "%s: sign-in off, %d forwards, store_mail=%t, responder=%t", a, len(list), in.StoreMail, in.Responder.Enabled)
	})
}
