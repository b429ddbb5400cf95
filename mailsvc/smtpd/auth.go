package smtpd

import (
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
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

// authenticate checks a login through the throttle every protocol shares.
// Every refusal reads the same whether or not the account exists, and
// whether or not the password was right: 535 after the throttle's delay.
// A locked account or address, or too many failures on this connection,
// gets 421, which closes the connection.
func (ss *session) authenticate(name, password string) error {
	defer ss.command(ss.s.cfg.CommandTimeout)()
	defer connlimit.Busy(ss.conn.Conn())()
	lookup := name
	if _, err := address.ParseLogin(name); errors.Is(err, address.ErrNoDomain) {
		// A name without a domain is an administrator's, and
		// administrators have no mailbox to send from. Their password
		// is never checked here: tenants would answer a right one at
		// once and clear the throttle, telling a guesser it was right.
		// The name goes to the throttle as a login naming nobody
		// instead (see nobody), so it gets what any failed login gets.
		ss.log.Info("AUTH: an administrator name is no mailbox login", "login", name)
		lookup = nobody(name)
	}
	login, err := ss.s.tenants.ResolveLogin(ss.ctx, lookup, password, ss.remote)
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le) && le.Reason == tenants.Locked:
		ss.log.Warn("AUTH refused: login locked", "login", name)
		return errAuthLocked
	case errors.As(err, &le) && (le.Reason == tenants.Inactive || le.Reason == tenants.Expired):
		// tenants says a mailbox is disabled or expired only after its
		// password matched, having counted and delayed the attempt as a
		// failure. "Account disabled" would confirm the password to
		// whoever guessed it (it may serve elsewhere, or again once the
		// mailbox is enabled), so the reply is a wrong password's.
		ss.log.Info("AUTH refused: mailbox disabled or expired", "login", name, "reason", le.Error())
		ss.authFailures++
		if ss.authFailures >= ss.s.cfg.MaxAuthFailures {
			return errAuthLocked
		}
		return errAuthFailed
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
	case login.Mailbox == nil:
		// Administrators manage; they have no mailbox to send from.
		ss.authFailures++
		ss.log.Info("AUTH refused: not a mailbox", "login", name)
		return errAuthFailed
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
	ss.log = ss.log.With("login", login.Address.String())
	ss.log.Info("AUTH succeeded")
	return nil
}

// nobody turns a login name into one that names no account: an empty
// domain part never resolves. tenants then does what it does for any
// unknown name: a dummy password hash, a failure counted for the name
// and the client's address, and the delay that count earns, so the reply
// and its timing are those of a failed login.
func nobody(name string) string {
	return name[:min(len(name), 511)] + "@"
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
