package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// LoginFailure says why a login was refused. Callers log it; what they tell
// the client must not reveal whether the account exists (BadCredentials and
// Locked are said to anyone, Inactive and Expired only after the right
// password was given).
type LoginFailure int

const (
	BadCredentials LoginFailure = iota + 1
	Locked
	Inactive
	Expired
	// AppPasswordRequired: the account has two factors on, so a protocol
	// login takes an app password only (said after the right password).
	AppPasswordRequired
	// NotForProtocol: a right app password limited to other protocols.
	NotForProtocol
)

// LoginError is a refused login.
type LoginError struct {
	Reason LoginFailure
	Name   string
}

func (e *LoginError) Error() string {
	switch e.Reason {
	case Locked:
		return "too many failed logins; try again later"
	case Inactive:
		return "this account is disabled"
	case Expired:
		return "this account has expired"
	case AppPasswordRequired:
		return "two-factor sign-in is on: log in with an app password"
	case NotForProtocol:
		return "this app password is not for this protocol"
	}
	return "wrong user name or password"
}

// Login is a successful login: an administrator or a mailbox.
type Login struct {
	Admin   *Admin
	Mailbox *Mailbox
	Domain  *Domain         // the mailbox's (primary) domain
	Address address.Address // the mailbox's own address
	// AppPassword is the app password a protocol login gave (nil: the
	// account's own password).
	AppPassword *AppPassword
	// TwoFactor says the account has two factors on: the panel asks for
	// the second step (CheckSecondFactor) before it starts a session.
	TwoFactor bool
	// TwoFactorRequired says the account must have two factors on (its
	// domain's or the administrators' rule); the panel lets it only
	// enrol until it has.
	TwoFactorRequired bool

	viaInactive bool // the login named a disabled alias domain
}

// UserScope is the scope of a mailbox acting on itself.
func (l *Login) UserScope(remote string) Scope {
	if l.Admin != nil {
		return Scope{Role: RoleAdmin, Actor: l.Admin.Name, RemoteAddr: remote}
	}
	return Scope{Role: RoleUser, Actor: l.Address.String(), RemoteAddr: remote, DomainID: l.Mailbox.DomainID, MailboxID: l.Mailbox.ID}
}

// ManagerScope is the widest scope the login grants: every domain for an
// administrator, the own domain for a postmaster, the own mailbox otherwise.
func (l *Login) ManagerScope(remote string) Scope {
	if l.Admin == nil && l.Mailbox.Postmaster {
		return Scope{Role: RolePostmaster, Actor: l.Address.String(), RemoteAddr: remote, DomainID: l.Mailbox.DomainID}
	}
	return l.UserScope(remote)
}

// LoginKind says who may log in where: mail protocols log mailboxes in,
// the panel (and its webmail) mailboxes and administrators.
type LoginKind int

const (
	// MailboxLogin is IMAP, POP3 and SMTP AUTH: a name without a domain
	// is nobody's there, an administrator's too; it is checked against a
	// dummy hash and counted under a key of its own, never the
	// administrator's, so it answers as any unknown name does.
	MailboxLogin LoginKind = iota + 1
	// PanelLogin is the panel's and webmail's sign-in: a bare name is a
	// system administrator's.
	PanelLogin
	// IMAPLogin, POP3Login, SMTPLogin, CardDAVLogin and LDAPLogin are
	// mailbox logins (as MailboxLogin) over that protocol: they take the
	// app passwords allowed for it, and with two factors on nothing
	// else. MailboxLogin names no protocol, so it takes no app password.
	IMAPLogin
	POP3Login
	SMTPLogin
	CardDAVLogin
	LDAPLogin
)

// protocol is the protocol of a per-protocol mailbox login ("": none).
func (k LoginKind) protocol() Protocol {
	switch k {
	case IMAPLogin:
		return IMAP
	case POP3Login:
		return POP3
	case SMTPLogin:
		return SMTP
	case CardDAVLogin:
		return CardDAV
	case LDAPLogin:
		return LDAP
	}
	return ""
}

// ResolveLogin is the one check of a login, for every protocol and the
// panel alike: user@domain, user/domain or user%domain for a mailbox
// (case-insensitive, alias domains understood), a bare name for a system
// administrator when kind is PanelLogin. It is a system-scope entry point.
//
// Its refusal is a *LoginError whose Reason is all a caller may tell the
// client (and the wording of Error() is safe to say): an unknown name, an
// administrator's name at a mailbox login and a wrong password are all
// BadCredentials, after the same work (a password hash, a counted failure,
// the same delay); Locked says only that the name or the address is
// throttled; Inactive and Expired come only after the right password. A
// protocol maps the Reason onto its wire and decides nothing more.
//
// Failures are throttled through the database (see throttleKeys), shared
// by every process.
func (s *Service) ResolveLogin(ctx context.Context, kind LoginKind, name, password, remote string) (*Login, error) {
	if len(name) > 512 || len(password) > 1024 {
		return nil, &LoginError{Reason: BadCredentials}
	}
	login, stored, acctKey, err := s.findLogin(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	checked := password
	if login != nil && login.Mailbox != nil && kind != PanelLogin {
		// A password shaped like an app password of the mailbox is
		// checked as that app password alone. The row is read afresh
		// here, before the auth cache is asked: a revoked one is gone.
		ap, form, err := s.appPasswordFor(ctx, login.Mailbox.ID, password)
		if err != nil {
			return nil, err
		}
		if ap != nil {
			login.AppPassword, stored, checked = ap, ap.Hash, form
		}
	}
	var now time.Time // when the right password was found
	reason, rehash, err := s.throttledCheck(ctx, acctKey, remote, login, stored, checked, func() LoginFailure {
		now = s.clock()
		if login.Mailbox != nil {
			if r := mailboxRefusal(login.Mailbox, login.Domain, now); r != 0 {
				return r
			}
			if login.viaInactive {
				return Inactive
			}
		}
		switch {
		case login.AppPassword != nil && !login.AppPassword.Allows(kind.protocol()):
			return NotForProtocol
		case login.AppPassword == nil && login.TwoFactor && kind != PanelLogin:
			return AppPasswordRequired
		}
		return 0
	})
	if err != nil {
		return nil, err
	}
	if reason != 0 {
		return nil, &LoginError{Reason: reason, Name: name}
	}
	if err := s.recordLogin(ctx, login, kind, remote, checked, rehash, now); err != nil {
		return nil, err
	}
	return login, nil
}

// throttledCheck is the one throttled password check, for logins and for
// a user confirming their password: it reserves a check on the account's
// and the address's counters (see throttleKeys), verifies the password
// (against a dummy hash when login is nil) and settles the counters. It
// returns 0 for a right password that refused (nil: none) does not turn
// down, else why not: Locked when the counters refused the check (no
// password was checked; this says nothing about whether the account
// exists), BadCredentials for a wrong password, or refused's reason. A
// wrong password and a refused right one are counted and delayed alike,
// so that a right password for a disabled account neither resets its
// counter nor answers faster than a wrong one.
func (s *Service) throttledCheck(ctx context.Context, acctKey, remote string, login *Login, stored, password string, refused func() LoginFailure) (LoginFailure, bool, error) {
	res, locked, err := s.reserve(ctx, s.throttleKeys(acctKey, addressKey(remote)))
	if err != nil {
		return 0, false, err
	}
	defer s.release(res)
	if locked {
		return Locked, false, nil
	}
	var ok, rehash bool
	if login != nil && s.auth.verified(acctKey, stored, password, login.credentialsVersion(), s.clock()) {
		ok = true
	} else if ok, rehash, err = s.verify(ctx, login, stored, password); err != nil {
		return 0, false, err
	}
	reason := BadCredentials
	if ok {
		reason = 0
		if refused != nil {
			reason = refused()
		}
	}
	if reason != 0 {
		delay, err := s.failure(ctx, res)
		if err != nil {
			return 0, false, err
		}
		s.sleep(ctx, delay)
		return reason, false, nil
	}
	if err := s.success(ctx, res); err != nil {
		return 0, false, err
	}
	if !rehash {
		// A hash about to be replaced is not remembered: the entry
		// would name the old one.
		s.auth.remember(acctKey, stored, password, login.credentialsVersion(), s.clock())
	}
	return 0, rehash, nil
}

// mailboxRefusal says whether a mailbox whose password is right may not
// log in now: disabled (it or its domain) or expired. 0: it may.
func mailboxRefusal(m *Mailbox, d *Domain, now time.Time) LoginFailure {
	switch {
	case !m.Active || !d.Active || m.SignInOff:
		return Inactive
	case m.Expired(now):
		return Expired
	}
	return 0
}

// findLogin finds the administrator or mailbox a login name means, and the
// throttle key of that account: every name of one mailbox (its address,
// aliases, alias domains, each login form) counts against the same key. A
// name that matches nothing gets a key of its own, so locking it reveals
// nothing. At a MailboxLogin a bare name matches nothing, and its key is
// not the administrator's.
func (s *Service) findLogin(ctx context.Context, kind LoginKind, name string) (*Login, string, string, error) {
	addr, perr := address.ParseLogin(name)
	var login *Login
	var stored string
	var err error
	switch {
	case errors.Is(perr, address.ErrNoDomain) && kind == PanelLogin:
		login, stored, err = s.findAdmin(ctx, name)
	case perr == nil:
		login, stored, err = s.findMailbox(ctx, addr)
	}
	if err != nil {
		return nil, "", "", err
	}
	if login != nil {
		db := s.db.Read(ctx)
		if login.TwoFactor, err = s.twoFactorOn(db, login); err != nil {
			return nil, "", "", err
		}
		if login.TwoFactorRequired, err = s.twoFactorRequired(db, login); err != nil {
			return nil, "", "", err
		}
	}
	switch {
	case login != nil && login.Admin != nil:
		return login, stored, accountKey("admin:" + login.Admin.Name), nil
	case login != nil:
		return login, stored, accountKey(login.Address.String()), nil
	case perr == nil:
		return nil, "", accountKey(addr.String()), nil
	}
	return nil, "", accountKey(name), nil
}

func (s *Service) findAdmin(ctx context.Context, name string) (*Login, string, error) {
	var a Admin
	err := s.db.Read(ctx).Where("name = ?", name).Take(&a).Error
	if notFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up administrator: %w", err)
	}
	return &Login{Admin: &a}, a.PasswordHash, nil
}

// findMailbox finds the mailbox a login address names: its own address or
// an alias, in its domain or an alias domain.
func (s *Service) findMailbox(ctx context.Context, a address.Address) (*Login, string, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxByAddressTx(db, SystemScope(""), a)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var d Domain
	if err := db.Take(&d, m.DomainID).Error; err != nil {
		return nil, "", fmt.Errorf("look up domain: %w", err)
	}
	own := address.Address{Local: address.Localpart(m.LocalPart), Domain: address.Domain(d.Name)}
	l := &Login{Mailbox: m, Domain: &d, Address: own}
	if a.Domain.String() != d.Name {
		// Logged in through an alias domain: a disabled alias domain
		// refuses the login as a disabled domain would.
		var typed Domain
		if err := db.Where("name = ?", a.Domain.String()).Take(&typed).Error; err != nil {
			return nil, "", fmt.Errorf("look up domain: %w", err)
		}
		l.viaInactive = !typed.Active
	}
	return l, m.PasswordHash, nil
}

// recordLogin stores the login time (inactivity expiry counts from it),
// where a mailbox logged in from (seeLogin), and
// replaces an imported or weaker hash with a current one; a login with an
// app password stamps that instead of the account's hash.
func (s *Service) recordLogin(ctx context.Context, l *Login, kind LoginKind, remote, password string, rehash bool, now time.Time) error {
	updates := map[string]any{"last_login_at": now}
	if ap := l.AppPassword; ap != nil {
		ap.LastUsedAt = &now
		apUpdates := map[string]any{"last_used_at": now}
		if rehash {
			h, err := s.hasher.Hash(password)
			if err != nil {
				return fmt.Errorf("rehash app password: %w", err)
			}
			apUpdates["hash"] = h
		}
		rehash = false
		if err := s.db.Write(ctx, func(tx *gorm.DB) error {
			return tx.Model(&AppPassword{}).Where("id = ?", ap.ID).Updates(apUpdates).Error
		}); err != nil {
			return fmt.Errorf("record app password use: %w", err)
		}
	}
	if rehash {
		h, err := s.hasher.Hash(password)
		if err != nil {
			return fmt.Errorf("rehash password: %w", err)
		}
		updates["password_hash"] = h
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		if l.Admin != nil {
			l.Admin.LastLoginAt = &now
			return tx.Model(&Admin{}).Where("id = ?", l.Admin.ID).Updates(updates).Error
		}
		l.Mailbox.LastLoginAt = &now
		if err := tx.Model(&Mailbox{}).Where("id = ?", l.Mailbox.ID).Updates(updates).Error; err != nil {
			return err
		}
		return s.seeLogin(tx, l.Mailbox.ID, kind, remote, now)
	})
}

// verify checks a password against a stored hash, or spends as long on a
// dummy hash when the login names nobody. Hashing is memory-hard (argon2id
// takes tens of MiB), so at most hashSlots run at once; the others wait.
func (s *Service) verify(ctx context.Context, login *Login, stored, password string) (ok, rehash bool, err error) {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	s.auth.hashed.Add(1)
	if login == nil {
		s.hasher.Dummy(password)
		return false, false, nil
	}
	ok, rehash, verr := s.hasher.Verify(stored, password)
	if verr != nil {
		s.log.WarnContext(ctx, "unreadable password hash", "login", login.displayName(), "err", verr)
		return false, false, nil
	}
	return ok, rehash, nil
}

func (l *Login) displayName() string {
	if l.Admin != nil {
		return l.Admin.Name
	}
	return l.Address.String()
}
