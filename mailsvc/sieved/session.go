package sieved

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// Bounds of what a client sends: a command line outside its literals, a
// literal (a script, with room to refuse one past the size rule with NO
// rather than a dropped connection), the strings of one command.
const (
	maxLine    = 8 << 10
	maxLiteral = 1 << 20
	maxArgs    = 8
)

// extensions is the SIEVE capability: what scripts may require, as
// delivery runs them (go-sieve's, less the test suite's).
const extensions = "fileinto envelope encoded-character imap4flags variables relational copy reject ereject subaddress environment body " +
	"comparator-i;octet comparator-i;ascii-casemap comparator-i;ascii-numeric comparator-i;unicode-casemap"

var errLineTooLong = errors.New("command line too long")

type session struct {
	srv  *Server
	log  *slog.Logger
	ctx  context.Context
	raw  net.Conn // the TCP connection (connlimit's), for deadlines
	conn net.Conn // raw, or TLS over it
	r    *bufio.Reader
	w    *bufio.Writer
	tls  bool

	login   *tenants.Login
	scope   tenants.Scope
	addr    address.Address
	unwatch func()
}

func (s *Server) handle(c net.Conn) {
	id := s.nextID.Add(1)
	log := s.log.With("conn", id, "remote", c.RemoteAddr().String())
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	ss := &session{srv: s, log: log, ctx: ctx, conn: c, raw: c}
	ss.r, ss.w = bufio.NewReader(c), bufio.NewWriter(c)
	defer func() {
		if ss.unwatch != nil {
			ss.unwatch()
		}
		ss.conn.Close()
		log.Debug("disconnected")
	}()
	ss.capabilities()
	ss.ok("", "Postdesk ManageSieve ready")
	if err := ss.loop(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
		log.Debug("connection ended", "err", err)
	}
}

// capabilities writes the capability lines (RFC 5804 1.7): SASL PLAIN
// only where a login may be made (over TLS, or plaintext allowed),
// STARTTLS until TLS is on.
func (ss *session) capabilities() {
	ss.line(`"IMPLEMENTATION" "Postdesk"`)
	ss.line(`"SIEVE" ` + quote(extensions))
	sasl := ""
	if ss.login == nil && (ss.tls || ss.srv.cfg.AllowPlaintextAuth) {
		sasl = "PLAIN"
	}
	ss.line(`"SASL" ` + quote(sasl))
	if !ss.tls && ss.srv.cfg.TLS != nil {
		ss.line(`"STARTTLS"`)
	}
	ss.line(`"MAXREDIRECTS" "` + strconv.Itoa(tenants.MaxSieveRedirects) + `"`)
	if ss.login != nil {
		ss.line(`"OWNER" ` + quote(ss.addr.String()))
	}
	ss.line(`"VERSION" "1.0"`)
}

func (ss *session) line(s string) {
	ss.w.WriteString(s)
	ss.w.WriteString("\r\n")
}

// ok, no and bye write a response (RFC 5804 4, response-*): an optional
// code in parentheses and a quoted human-readable text.
func (ss *session) ok(code, text string)  { ss.resp("OK", code, text) }
func (ss *session) no(code, text string)  { ss.resp("NO", code, text) }
func (ss *session) bye(code, text string) { ss.resp("BYE", code, text) }

func (ss *session) resp(kind, code, text string) {
	s := kind
	if code != "" {
		s += " (" + code + ")"
	}
	if text != "" {
		s += " " + quote(text)
	}
	ss.line(s)
}

// quote makes a quoted string (RFC 5804 4, quoted): a text with a line
// break or a NUL can't be one, so those become spaces.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\r', '\n', 0:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// literal writes a string as a literal (literal-s2c), for scripts.
func (ss *session) literal(s string) {
	fmt.Fprintf(ss.w, "{%d}\r\n", len(s))
	ss.w.WriteString(s)
	ss.w.WriteString("\r\n")
}

func (ss *session) loop() error {
	for {
		ss.raw.SetWriteDeadline(time.Now().Add(5 * time.Minute))
		if err := ss.w.Flush(); err != nil {
			return err
		}
		ss.raw.SetReadDeadline(time.Now().Add(ss.srv.cfg.IdleTimeout))
		name, args, err := ss.readCommand()
		var pe *parseError
		switch {
		case errors.Is(err, errLineTooLong):
			ss.bye("", "Command line too long")
			ss.w.Flush()
			return err
		case errors.As(err, &pe):
			if pe.fatal {
				ss.bye("", pe.msg)
				ss.w.Flush()
				return err
			}
			ss.no("", pe.msg)
			continue
		case err != nil:
			return err
		}
		if done, err := ss.command(strings.ToUpper(name), args); done || err != nil {
			ss.w.Flush()
			return err
		}
	}
}

// command runs one command; done ends the session.
func (ss *session) command(name string, args []string) (done bool, err error) {
	want := func(n int) bool {
		if len(args) != n {
			ss.no("", fmt.Sprintf("%s takes %d arguments", name, n))
			return false
		}
		return true
	}
	switch name {
	case "CAPABILITY":
		if want(0) {
			ss.capabilities()
			ss.ok("", "Capability completed")
		}
		return false, nil
	case "NOOP":
		// RFC 5804 2.11.2: a NOOP's string comes back as its TAG, which
		// clients use to find the end of what STARTTLS left unread.
		if len(args) == 1 {
			ss.ok("TAG "+quote(args[0]), "Done")
		} else {
			ss.ok("", "Done")
		}
		return false, nil
	case "LOGOUT":
		ss.ok("", "Logout completed")
		return true, nil
	case "STARTTLS":
		return ss.starttls()
	case "AUTHENTICATE":
		return false, ss.authenticate(args)
	}
	if ss.login == nil {
		ss.no("", "Log in first")
		return false, nil
	}
	switch name {
	case "HAVESPACE":
		if want(2) {
			n, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || n < 0 {
				ss.no("", "The size is a number")
				return false, nil
			}
			ss.result(ss.srv.cfg.Tenants.CheckSieveSpace(ss.ctx, ss.scope, ss.addr, args[0], n), "Putscript would succeed")
		}
	case "PUTSCRIPT":
		if want(2) {
			ss.result(ss.srv.cfg.Tenants.PutSieveScript(ss.ctx, ss.scope, ss.addr, args[0], args[1]), "Script stored")
		}
	case "CHECKSCRIPT":
		if want(1) {
			_, err := tenants.CompileSieve(args[0])
			ss.result(err, "Script is valid")
		}
	case "LISTSCRIPTS":
		if want(0) {
			list, err := ss.srv.cfg.Tenants.SieveScripts(ss.ctx, ss.scope, ss.addr)
			if err == nil {
				for _, sc := range list {
					if sc.Active {
						ss.line(quote(sc.Name) + " ACTIVE")
					} else {
						ss.line(quote(sc.Name))
					}
				}
			}
			ss.result(err, "Listscripts completed")
		}
	case "GETSCRIPT":
		if want(1) {
			sc, err := ss.srv.cfg.Tenants.SieveScriptByName(ss.ctx, ss.scope, ss.addr, args[0])
			if err == nil {
				ss.literal(sc.Content)
			}
			ss.result(err, "Getscript completed")
		}
	case "SETACTIVE":
		if want(1) {
			ss.result(ss.srv.cfg.Tenants.SetActiveSieveScript(ss.ctx, ss.scope, ss.addr, args[0]), "Setactive completed")
		}
	case "DELETESCRIPT":
		if want(1) {
			ss.result(ss.srv.cfg.Tenants.DeleteSieveScript(ss.ctx, ss.scope, ss.addr, args[0]), "Deletescript completed")
		}
	case "RENAMESCRIPT":
		if want(2) {
			ss.result(ss.srv.cfg.Tenants.RenameSieveScript(ss.ctx, ss.scope, ss.addr, args[0], args[1]), "Renamescript completed")
		}
	case "UNAUTHENTICATE":
		ss.no("", "UNAUTHENTICATE is not supported")
	default:
		ss.no("", "Unknown command")
	}
	return false, nil
}

// result answers a command by tenants' error, with the response codes of
// RFC 5804 1.3; the text of a validation error says what is wrong with
// the script or name, any other failure is logged and said in general.
func (ss *session) result(err error, okText string) {
	var ve *tenants.ValidationError
	switch {
	case err == nil:
		ss.ok("", okText)
	case errors.As(err, &ve):
		ss.no("", ve.Message)
	case errors.Is(err, tenants.ErrOverQuota):
		code := "QUOTA/MAXSIZE"
		if strings.Contains(err.Error(), "scripts") {
			code = "QUOTA/MAXSCRIPTS"
		}
		ss.no(code, "Over the script quota: at most "+strconv.Itoa(tenants.MaxSieveScripts)+" scripts of "+
			strconv.Itoa(tenants.MaxSieveScriptBytes)+" bytes")
	case errors.Is(err, tenants.ErrActiveScript):
		ss.no("ACTIVE", "The active script can't be deleted")
	case errors.Is(err, tenants.ErrExists):
		ss.no("ALREADYEXISTS", "A script of that name exists")
	case errors.Is(err, tenants.ErrNotFound):
		ss.no("NONEXISTENT", "No such script")
	default:
		ss.log.Error("command failed", "err", err)
		ss.no("TRYLATER", "Temporary server failure; try again")
	}
}

// starttls starts TLS (RFC 5804 2.2) and says the capabilities again.
func (ss *session) starttls() (bool, error) {
	if ss.tls || ss.srv.cfg.TLS == nil {
		ss.no("", "TLS is not available")
		return false, nil
	}
	if ss.r.Buffered() > 0 {
		// Anything sent after STARTTLS in the clear is an injection
		// attempt (the STARTTLS command injection of CVE-2011-0411).
		ss.bye("", "Data after STARTTLS")
		return true, nil
	}
	ss.ok("", "Begin TLS negotiation now")
	if err := ss.w.Flush(); err != nil {
		return true, err
	}
	tc := tls.Server(ss.raw, ss.srv.cfg.TLS)
	ss.raw.SetDeadline(time.Now().Add(time.Minute))
	if err := tc.HandshakeContext(ss.ctx); err != nil {
		return true, fmt.Errorf("TLS handshake: %w", err)
	}
	ss.raw.SetDeadline(time.Time{})
	ss.conn, ss.tls = tc, true
	ss.r, ss.w = bufio.NewReader(tc), bufio.NewWriter(tc)
	ss.capabilities()
	ss.ok("", "TLS negotiation successful")
	return false, nil
}

// authenticate runs SASL PLAIN (RFC 5804 2.1, RFC 4616), with an initial
// response or after an empty challenge.
func (ss *session) authenticate(args []string) error {
	if ss.login != nil {
		ss.no("", "Already logged in")
		return nil
	}
	if !ss.tls && !ss.srv.cfg.AllowPlaintextAuth {
		ss.no("ENCRYPT-NEEDED", "Use STARTTLS first")
		return nil
	}
	if len(args) < 1 || len(args) > 2 || !strings.EqualFold(args[0], "PLAIN") {
		ss.no("", "Only SASL PLAIN is supported")
		return nil
	}
	var resp string
	if len(args) == 2 {
		resp = args[1]
	} else {
		ss.line(`""`)
		if err := ss.w.Flush(); err != nil {
			return err
		}
		ss.raw.SetReadDeadline(time.Now().Add(time.Minute))
		_, r, err := ss.readStrings(true)
		if err != nil {
			return err
		}
		if len(r) != 1 {
			ss.no("", "Malformed SASL response")
			return nil
		}
		resp = r[0]
	}
	if resp == "*" {
		ss.no("", "Authentication aborted")
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		ss.no("", "Malformed base64")
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	if len(parts) != 3 {
		ss.no("", "Malformed PLAIN response")
		return nil
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		ss.no("", "Logging in as another user is not supported")
		return nil
	}
	ss.doLogin(user, pass)
	return nil
}

// doLogin checks a login through tenants.ResolveLogin: the one login check
// of every protocol, with its shared throttle.
func (ss *session) doLogin(user, pass string) {
	defer connlimit.Busy(ss.raw)()
	remote := ss.raw.RemoteAddr().String()
	l, err := ss.srv.cfg.Tenants.ResolveLogin(ss.ctx, tenants.MailboxLogin, user, pass, remote)
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le):
		ss.log.Info("login refused", "reason", le.Error())
		code := ""
		if le.Reason == tenants.Locked {
			code = "TRYLATER"
		}
		text := le.Error()
		ss.no(code, strings.ToUpper(text[:1])+text[1:])
		return
	case err != nil:
		ss.log.Error("log in", "err", err)
		ss.no("TRYLATER", "Temporary server failure; try again")
		return
	}
	ss.login, ss.addr, ss.scope = l, l.Address, l.UserScope(remote)
	ss.log = ss.log.With("user", l.Address.String())
	log, raw := ss.log, ss.raw
	ss.unwatch = ss.srv.watch().Watch(l, func() {
		log.Info("session ended: the login no longer holds")
		raw.Close()
	})
	connlimit.Authenticated(ss.raw)
	ss.log.Info("logged in")
	ss.ok("", "Logged in")
}
