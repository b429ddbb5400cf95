package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// How a recipient reached its mailbox.
const (
	ViaMailbox     = "mailbox"
	ViaAlias       = "alias"
	ViaSubaddress  = "subaddress"
	ViaPostmaster  = "postmaster"
	ViaCatchrest   = "catchrest"
	ViaAliasDomain = "+alias-domain"
	// ViaSystem: postmaster mail that reached the system mailbox.
	ViaSystem = "system"
)

// Target is a mailbox a message is stored in.
type Target struct {
	MailboxID  int64
	DomainID   int64
	Address    address.Address // the mailbox's own address
	QuotaBytes int64           // effective quota; 0: unlimited
}

// ResponderPlan says that a responder should consider answering.
type ResponderPlan struct {
	MailboxID    int64
	From         address.Address // the mailbox's own address, the reply's sender
	Subject      string
	Body         string
	IntervalDays int64
	// Own are the mailbox's addresses; a responder never answers them.
	Own []address.Address
}

// Plan is what to do with a message for one envelope recipient.
type Plan struct {
	Recipient address.Address
	// Mailbox is the mailbox the recipient resolved to, stored into or not.
	Mailbox Target
	// Store is true when the message is kept in Mailbox (store mail on).
	Store bool
	// MaySend is the mailbox's send permission, which its forwards to
	// other servers and its responder's replies to them need too
	// (mailsvc/delivery).
	MaySend bool
	// Forward lists addresses the message is forwarded to.
	Forward []address.Address
	// Respond is set when an active responder should consider answering.
	Respond *ResponderPlan
	// System is set for the system mailbox (Mailbox.MailboxID is then
	// SystemMailbox): postmaster mail nobody else was named for, which
	// the message store keeps for administrators only.
	System bool
	// Via tells how the address was resolved (ViaMailbox, ...), with
	// ViaAliasDomain appended when it went through an alias domain.
	Via string
	// List is set, and Mailbox zero, when the recipient is a list or one
	// of its command addresses (ViaList; mailsvc/delivery expands it).
	List *ListTarget
}

// SettingSystemPostmaster names the setting holding the address a bare
// <postmaster> reaches.
const SettingSystemPostmaster = "system_postmaster"

// ResolveRecipient returns the delivery plan for one envelope recipient. It
// is a system-scope entry point for the protocol servers. Order: mailbox,
// alias, alias domain, subaddress (user+tag, RFC 5233), postmaster@ and
// abuse@ (RFC 5321 4.5.1, RFC 2142), catchrest. A responder never answers
// mail that reached a mailbox only through catchrest. Errors: ErrNotHosted
// (the domain is not ours: relaying), ErrNoSuchUser, ErrDisabled.
func (s *Service) ResolveRecipient(ctx context.Context, rcpt address.Address) (*Plan, error) {
	db := s.db.Read(ctx)
	mailboxID, via, list, err := s.lookup(ctx, db, rcpt)
	if err != nil {
		return nil, err
	}
	if list != nil {
		return &Plan{Recipient: rcpt, List: list, Via: via}, nil
	}
	if mailboxID == SystemMailbox {
		return systemPlan(rcpt, via), nil
	}
	p, err := s.planFor(ctx, db, mailboxID)
	if err != nil {
		return nil, err
	}
	p.Recipient = rcpt
	p.Via = via
	if strings.HasPrefix(via, ViaCatchrest) {
		p.Respond = nil
	}
	return p, nil
}

// lookupRecipient finds the mailbox an address delivers to, and how.
func (s *Service) lookupRecipient(ctx context.Context, db *gorm.DB, rcpt address.Address) (int64, string, error) {
	id, via, list, err := s.lookup(ctx, db, rcpt)
	if err == nil && list != nil {
		return 0, "", fmt.Errorf("%s: a list: %w", rcpt, ErrNoSuchUser)
	}
	return id, via, err
}

// lookup finds the mailbox or the list an address delivers to, and how.
// A list's addresses come after the mailboxes' and aliases' (checkFree
// keeps them apart) and before subaddresses, so that LOCAL-bounces+ARG is
// the list's.
func (s *Service) lookup(ctx context.Context, db *gorm.DB, rcpt address.Address) (int64, string, *ListTarget, error) {
	var d Domain
	err := db.Where("name = ?", rcpt.Domain.String()).Take(&d).Error
	if notFound(err) {
		return 0, "", nil, fmt.Errorf("%s: %w", rcpt, ErrNotHosted)
	}
	if err != nil {
		return 0, "", nil, fmt.Errorf("look up domain %s: %w", rcpt.Domain, err)
	}
	if !d.Active {
		return 0, "", nil, fmt.Errorf("%s: domain disabled: %w", rcpt, ErrDisabled)
	}
	viaDomain := ""
	primary := &d
	if d.AliasOfID != nil {
		if primary, err = s.primaryDomain(db, &d); err != nil {
			return 0, "", nil, err
		}
		if !primary.Active {
			return 0, "", nil, fmt.Errorf("%s: domain disabled: %w", rcpt, ErrDisabled)
		}
		viaDomain = ViaAliasDomain
	}
	local := string(rcpt.Local)
	row, err := s.addressRow(db, primary.ID, local)
	if err != nil {
		return 0, "", nil, err
	}
	if row != nil {
		if row.IsAlias {
			return row.MailboxID, ViaAlias + viaDomain, nil, nil
		}
		return row.MailboxID, ViaMailbox + viaDomain, nil, nil
	}
	l, role, arg, err := s.listAt(db, primary.ID, local)
	if err != nil {
		return 0, "", nil, err
	}
	if l != nil {
		lt := &ListTarget{List: *l, Address: address.Address{Local: address.Localpart(l.LocalPart), Domain: address.Domain(primary.Name)}, Role: role, Arg: arg}
		return 0, ViaList + viaDomain, lt, nil
	}
	if base, _, ok := strings.Cut(local, "+"); ok && base != "" {
		if row, err = s.addressRow(db, primary.ID, base); err != nil {
			return 0, "", nil, err
		}
		if row != nil {
			return row.MailboxID, ViaSubaddress + viaDomain, nil, nil
		}
	}
	if local == "postmaster" || local == "abuse" {
		id, via, err := s.postmasterOf(ctx, db, primary, viaDomain)
		return id, via, nil, err
	}
	if row, err = s.addressRow(db, primary.ID, CatchrestLocalpart); err != nil {
		return 0, "", nil, err
	}
	if row == nil {
		return 0, "", nil, fmt.Errorf("%s: %w", rcpt, ErrNoSuchUser)
	}
	return row.MailboxID, ViaCatchrest + viaDomain, nil, nil
}

// SystemMailbox is the mailbox id of the system mailbox in a plan: mail for
// the postmaster that no domain and no administrator named a mailbox for.
// It is no row of the mailboxes table (ids start at 1), so that no login,
// tenant's or anyone's, can reach it; the message store keeps its messages
// apart and only the administrator's panel lists them.
const SystemMailbox int64 = 0

// SystemMailboxQuota bounds the system mailbox: anyone on the internet can
// write to it (postmaster@ of a domain that names nobody), and it belongs
// to no tenant whose quota would bound it. Past it, such mail is deferred
// (452) until an administrator reads and deletes, or names a postmaster.
const SystemMailboxQuota int64 = 1 << 30

// postmasterOf resolves postmaster@ and abuse@ of a domain (RFC 5321 4.5.1,
// RFC 2142), the one rule for them: the domain's named postmaster, else its
// catchrest, else the system postmaster an administrator named, else the
// system mailbox. Never another tenant's postmaster: what reaches a domain's
// postmaster (abuse reports, bounces with their headers) is that tenant's
// business.
//
// A step whose mailbox is disabled or expired passes to the next: RFC 5321
// 4.5.1 wants postmaster mail accepted, and the steps after it stay within
// the domain or go to what administrators named.
func (s *Service) postmasterOf(ctx context.Context, db *gorm.DB, d *Domain, viaDomain string) (int64, string, error) {
	if d.PostmasterMailboxID != nil {
		ok, err := s.takesMail(db, *d.PostmasterMailboxID)
		if err != nil {
			return 0, "", err
		}
		if ok {
			return *d.PostmasterMailboxID, ViaPostmaster + viaDomain, nil
		}
	}
	row, err := s.addressRow(db, d.ID, CatchrestLocalpart)
	if err != nil {
		return 0, "", err
	}
	if row != nil {
		ok, err := s.takesMail(db, row.MailboxID)
		if err != nil {
			return 0, "", err
		}
		if ok {
			return row.MailboxID, ViaCatchrest + viaDomain, nil
		}
	}
	id, err := s.systemPostmasterID(ctx, db)
	if err != nil {
		return 0, "", err
	}
	if id == SystemMailbox {
		return SystemMailbox, ViaSystem + viaDomain, nil
	}
	return id, ViaPostmaster + viaDomain, nil
}

// takesMail reports whether mailbox id is active and not expired.
func (s *Service) takesMail(db *gorm.DB, id int64) (bool, error) {
	var m Mailbox
	err := db.Take(&m, id).Error
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up mailbox %d: %w", id, err)
	}
	return m.Active && !m.Expired(s.clock()), nil
}

// ResolvePostmaster returns the plan for a bare <postmaster> (RFC 5321
// 4.5.1): the system postmaster an administrator named, else the system
// mailbox.
func (s *Service) ResolvePostmaster(ctx context.Context) (*Plan, error) {
	db := s.db.Read(ctx)
	id, err := s.systemPostmasterID(ctx, db)
	if err != nil {
		return nil, err
	}
	if id == SystemMailbox {
		return systemPlan(address.Address{Local: "postmaster"}, ViaSystem), nil
	}
	p, err := s.planFor(ctx, db, id)
	if err != nil {
		return nil, err
	}
	p.Recipient, p.Via = address.Address{Local: "postmaster"}, ViaPostmaster
	return p, nil
}

// systemPlan is the plan for the system mailbox: stored, nothing else (no
// forwards, no responder), within SystemMailboxQuota. Its Mailbox.Address is the recipient
// (for Delivered-To), zero for a bare <postmaster>.
func systemPlan(rcpt address.Address, via string) *Plan {
	t := Target{MailboxID: SystemMailbox, QuotaBytes: SystemMailboxQuota}
	if rcpt.Domain != "" {
		t.Address = rcpt
	}
	return &Plan{Recipient: rcpt, Mailbox: t, Store: true, System: true, Via: via}
}

// systemPostmasterID returns the mailbox an administrator named system
// postmaster, or SystemMailbox when none is named (or the one named is
// gone).
func (s *Service) systemPostmasterID(ctx context.Context, db *gorm.DB) (int64, error) {
	var st setting
	err := db.Where("name = ?", SettingSystemPostmaster).Take(&st).Error
	if notFound(err) {
		return SystemMailbox, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read system postmaster: %w", err)
	}
	a, err := address.ParseAddress(st.Value)
	if err != nil {
		s.log.WarnContext(ctx, "system postmaster setting is unparsable; mail for it goes to the system mailbox", "value", st.Value)
		return SystemMailbox, nil
	}
	m, err := s.mailboxByAddressTx(db, SystemScope(""), a)
	if errors.Is(err, ErrNotFound) {
		s.log.WarnContext(ctx, "system postmaster setting names no mailbox; mail for it goes to the system mailbox", "value", st.Value)
		return SystemMailbox, nil
	}
	if err != nil {
		return 0, err
	}
	if !m.Active || m.Expired(s.clock()) {
		s.log.WarnContext(ctx, "system postmaster is disabled; mail for it goes to the system mailbox", "value", st.Value)
		return SystemMailbox, nil
	}
	return m.ID, nil
}

// SystemPostmaster returns the address an administrator named system
// postmaster; zero when none is named.
func (s *Service) SystemPostmaster(ctx context.Context, sc Scope) (address.Address, error) {
	if !sc.AllDomains() {
		return address.Address{}, ErrForbidden
	}
	var st setting
	err := s.db.Read(ctx).Where("name = ?", SettingSystemPostmaster).Take(&st).Error
	if notFound(err) {
		return address.Address{}, nil
	}
	if err != nil {
		return address.Address{}, fmt.Errorf("read system postmaster: %w", err)
	}
	a, _ := address.ParseAddress(st.Value)
	return a, nil
}

// SetSystemPostmaster names the mailbox a bare <postmaster> reaches, and
// postmaster@ of a domain with neither a postmaster nor a catchrest. The
// zero address clears it: such mail then goes to the system mailbox.
func (s *Service) SetSystemPostmaster(ctx context.Context, sc Scope, a address.Address) error {
	if !sc.AllDomains() {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		if a.IsZero() {
			if err := tx.Where("name = ?", SettingSystemPostmaster).Delete(&setting{}).Error; err != nil {
				return fmt.Errorf("clear setting: %w", err)
			}
			return s.audit(tx, sc, nil, "postmaster.set", "(system mailbox)")
		}
		if _, err := s.mailboxByAddressTx(tx, sc, a); err != nil {
			return invalid("postmaster", "%s is not a mailbox or alias here", a)
		}
		if err := tx.Save(&setting{Name: SettingSystemPostmaster, Value: a.String()}).Error; err != nil {
			return fmt.Errorf("save setting: %w", err)
		}
		return s.audit(tx, sc, nil, "postmaster.set", "%s", a)
	})
}

func (s *Service) addressRow(db *gorm.DB, domainID int64, local string) (*addressRow, error) {
	var row addressRow
	err := db.Where("domain_id = ? AND local_part = ?", domainID, local).Take(&row).Error
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up address %s: %w", local, err)
	}
	return &row, nil
}

// planFor builds the plan for delivering to one mailbox.
func (s *Service) planFor(ctx context.Context, db *gorm.DB, mailboxID int64) (*Plan, error) {
	var m Mailbox
	if err := db.Take(&m, mailboxID).Error; err != nil {
		return nil, fmt.Errorf("look up mailbox %d: %w", mailboxID, err)
	}
	var d Domain
	if err := db.Take(&d, m.DomainID).Error; err != nil {
		return nil, fmt.Errorf("look up domain %d: %w", m.DomainID, err)
	}
	own := address.Address{Local: address.Localpart(m.LocalPart), Domain: address.Domain(d.Name)}
	now := s.clock()
	if !m.Active || m.Expired(now) {
		return nil, fmt.Errorf("%s: mailbox disabled: %w", own, ErrDisabled)
	}
	p := &Plan{
		Mailbox: Target{MailboxID: m.ID, DomainID: d.ID, Address: own, QuotaBytes: EffectiveQuota(&m, &d)},
		Store:   m.StoreMail,
		MaySend: m.MaySend,
	}
	var fs []string
	if err := db.Model(&forwardRow{}).Where("mailbox_id = ?", m.ID).Order("id").Pluck("address", &fs).Error; err != nil {
		return nil, fmt.Errorf("read forwards: %w", err)
	}
	for _, f := range fs {
		a, err := address.ParseAddress(f)
		if err != nil {
			s.log.WarnContext(ctx, "unparsable forward address skipped", "mailbox", own.String(), "forward", f, "err", err)
			continue
		}
		p.Forward = append(p.Forward, a)
	}
	if !p.Store && len(p.Forward) == 0 {
		// The store-mail rule forbids this state; should it ever occur,
		// keep the message rather than lose it.
		p.Store = true
	}
	var r Responder
	err := db.Where("mailbox_id = ?", m.ID).Take(&r).Error
	if err != nil && !notFound(err) {
		return nil, fmt.Errorf("read responder: %w", err)
	}
	if err == nil && r.Active(now) {
		ownAddrs, err := s.Addresses(ctx, SystemScope(""), &m)
		if err != nil {
			return nil, err
		}
		p.Respond = &ResponderPlan{MailboxID: m.ID, From: own, Subject: r.Subject, Body: r.Body, IntervalDays: r.IntervalDays, Own: ownAddrs}
	}
	return p, nil
}
