package smtpd

import (
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
)

// AuthMechanisms lists the SASL mechanisms offered in EHLO: PLAIN and LOGIN
// on submission, once TLS is on (RFC 4954 4, RFC 8314) unless plaintext
// logins are allowed; none on the MX.
func (ss *session) AuthMechanisms() []string {
	if !ss.e.submission || ss.login != nil || (!ss.tls && !ss.s.cfg.AllowPlaintextAuth) {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts AUTH (RFC 4954). Before STARTTLS it answers 530.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !ss.e.submission {
		return nil, smtp.ErrAuthUnsupported
	}
	if !ss.tls && !ss.s.cfg.AllowPlaintextAuth {
		return nil, errNeedTLS
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				// Acting as another user (RFC 4616 authzid) is not offered.
				ss.authFailures++
				return errAuthFailed
			}
			return ss.authenticate(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{auth: ss.authenticate}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// Replies to an AUTH whose password was right but whose mailbox may not
// log in: RFC 5248 registers X.7.13 "User Account Disabled" for exactly
// this ("after a successful authentication to a disabled account"), with
// 525 as its reply code. tenants says so only after the right password, and
// every protocol names it alike.
var (
	errAuthDisabled = reply(525, 5, 7, 13, "Account disabled")
	errAuthExpired  = reply(525, 5, 7, 13, "Account expired")
	// errLoginEnded closes a session whose login no longer holds.
	errLoginEnded = reply(421, 4, 7, 0, "Session ended: the account changed; log in again")
)

// watchLogin ends the session when its login no longer holds (the mailbox
// disabled, expired, its password changed): an idle connection is closed
// at once; one in the middle of DATA finishes it (nothing accepted is
// lost or half-written) and its next MAIL gets 421, which closes it.
func (ss *session) watchLogin(l *tenants.Login) {
	if ss.s.sessions == nil {
		return
	}
	conn, tc, log := ss.conn.Conn(), ss.tc, ss.log
	ss.unwatch = ss.s.sessions.Watch(l, func() {
		ss.ended.Store(true)
		if tc == nil || !tc.busy.Load() {
			log.Info("session ended: the login no longer holds")
			conn.Close()
		}
	})
}

// authenticate checks a login through tenants.ResolveLogin, the one check
// every protocol shares, and maps its answer onto SMTP (RFC 4954 6): 535
// for every refusal tenants words alike (an unknown name, an
// administrator's bare name, a wrong password), 525 for a disabled or
// expired mailbox, 421 (closing the connection) for a locked account or
// address or too many failures on this connection.
func (ss *session) authenticate(name, password string) error {
	defer ss.command(ss.s.cfg.CommandTimeout)()
	defer connlimit.Busy(ss.conn.Conn())()
	login, err := ss.s.tenants.ResolveLogin(ss.ctx, tenants.SMTPLogin, name, password, ss.remote)
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le) && le.Reason == tenants.Locked:
		ss.log.Warn("AUTH refused: login locked", "login", name)
		return errAuthLocked
	case errors.As(err, &le) && le.Reason == tenants.Inactive:
		ss.log.Info("AUTH refused: mailbox disabled", "login", name)
		return errAuthDisabled
	case errors.As(err, &le) && le.Reason == tenants.Expired:
		ss.log.Info("AUTH refused: mailbox expired", "login", name)
		return errAuthExpired
	case errors.As(err, &le):
		ss.authFailures++
		ss.log.Info("AUTH failed", "login", name, "reason", le.Error(), "failures", ss.authFailures)
		if ss.authFailures >= ss.s.cfg.MaxAuthFailures {
			return errAuthLocked
		}
		return errAuthFailed
	case err != nil:
		ss.log.Warn("AUTH: login check failed", "err", err)
		return errAuthTemp
	}
	// A mailbox that may not send still logs in; MAIL refuses it, with the
	// reply that says why.
	sendAs, err := ss.s.deliverer.SenderAddresses(ss.ctx, login, ss.remote)
	if err != nil && !errors.Is(err, delivery.ErrMayNotSend) {
		ss.log.Warn("AUTH: list the mailbox's addresses", "err", err)
		return errAuthTemp
	}
	ss.sendAs = sendAs
	ss.login = login
	// Logged in: no longer evicted for new connections nor closed at
	// PreAuthTimeout.
	connlimit.Authenticated(ss.conn.Conn())
	ss.watchLogin(login)
	ss.log = ss.log.With("login", login.Address.String())
	ss.log.Info("AUTH succeeded")
	return nil
}

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login), which go-sasl only has as a client.
type loginServer struct {
	auth func(username, password string) error
	step int
	user string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		if response == nil {
			l.step = 1
			return []byte("Username:"), false, nil
		}
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.auth(l.user, string(response))
	}
	return nil, false, errors.New("unexpected LOGIN response")
}
