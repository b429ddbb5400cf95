package pop3d

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
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
)

// maxLine bounds a command line (RFC 2449 4 allows 255 octets; a SASL
// response may be longer).
const maxLine = 8 << 10

type state int

const (
	stateAuth state = iota
	stateTransaction
)

// session is one POP3 connection.
type session struct {
	srv  *Server
	log  *slog.Logger
	ctx  context.Context
	conn net.Conn // raw, or TLS on it
	raw  net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	tls  bool

	state     state
	user      string // after USER
	mailboxID int64
	locked    bool // the mailbox's lock is held
	folder    *store.Folder
	msgs      []store.MaildropEntry // the maildrop as it was at login
	deleted   []bool
	retrieved []bool
	unwatch   func() // leaves the session watch
}

func (s *Server) handle(c net.Conn, implicitTLS bool) {
	id := s.nextID.Add(1)
	log := s.log.With("conn", id, "remote", c.RemoteAddr().String())
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	ss := &session{srv: s, log: log, ctx: ctx, conn: c, raw: c}
	if implicitTLS {
		ss.conn, ss.tls = tls.Server(c, s.cfg.TLS), true
	}
	ss.r, ss.w = bufio.NewReader(ss.conn), bufio.NewWriter(ss.conn)
	defer func() {
		ss.end()
		ss.conn.Close()
		log.Debug("disconnected")
	}()
	ss.reply("+OK Postdesk POP3 server ready")
	if err := ss.loop(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
		log.Debug("connection ended", "err", err)
	}
}

func (ss *session) reply(s string) {
	ss.w.WriteString(s)
	ss.w.WriteString("\r\n")
}

// flush sends what is buffered once the client has nothing more pipelined
// (RFC 2449 6.6).
func (ss *session) flush() error {
	if ss.r.Buffered() > 0 {
		return nil
	}
	ss.raw.SetWriteDeadline(time.Now().Add(5 * time.Minute))
	return ss.w.Flush()
}

func (ss *session) loop() error {
	for {
		if err := ss.flush(); err != nil {
			return err
		}
		ss.raw.SetReadDeadline(time.Now().Add(ss.srv.cfg.IdleTimeout))
		line, err := ss.readLine()
		if errors.Is(err, errLineTooLong) {
			ss.reply("-ERR Line too long")
			continue
		}
		if err != nil {
			return err
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		quit, err := ss.command(verb, arg)
		if err != nil {
			return err
		}
		if quit {
			ss.w.Flush()
			return nil
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line; an overlong one is read to its end and
// reported, and the session goes on.
func (ss *session) readLine() (string, error) {
	var line []byte
	tooLong := false
	for {
		b, err := ss.r.ReadSlice('\n')
		if !tooLong && len(line)+len(b) <= maxLine {
			line = append(line, b...)
		} else {
			tooLong, line = true, nil
		}
		if err == nil {
			if tooLong {
				return "", errLineTooLong
			}
			return strings.TrimRight(string(line), "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
}

func (ss *session) authAllowed() bool { return ss.tls || ss.srv.cfg.AllowPlaintextAuth }

// command runs one command; it reports true after QUIT.
func (ss *session) command(verb, arg string) (bool, error) {
	switch verb {
	case "QUIT":
		return true, ss.quit()
	case "CAPA":
		ss.capa()
		return false, nil
	case "NOOP":
		if ss.state != stateTransaction {
			ss.reply("-ERR NOOP is for after login")
		} else {
			ss.reply("+OK")
		}
		return false, nil
	}
	if ss.state == stateAuth {
		return false, ss.authCommand(verb, arg)
	}
	ss.transaction(verb, arg)
	return false, nil
}

func (ss *session) capa() {
	ss.reply("+OK Capability list follows")
	ss.reply("TOP")
	ss.reply("UIDL")
	ss.reply("RESP-CODES")
	ss.reply("AUTH-RESP-CODE")
	ss.reply("PIPELINING")
	if ss.state == stateAuth {
		if ss.srv.cfg.TLS != nil && !ss.tls {
			ss.reply("STLS")
		}
		if ss.authAllowed() {
			ss.reply("USER")
			ss.reply("SASL PLAIN")
		}
	}
	ss.reply("IMPLEMENTATION Postdesk")
	ss.reply(".")
}

func (ss *session) authCommand(verb, arg string) error {
	switch verb {
	case "STLS":
		return ss.stls(arg)
	case "USER":
		if !ss.authAllowed() {
			ss.reply("-ERR [AUTH] Logins need TLS: use STLS or the implicit TLS port")
			return nil
		}
		if arg == "" {
			ss.reply("-ERR USER needs a name")
			return nil
		}
		ss.user = arg
		ss.reply("+OK Send the password with PASS")
	case "PASS":
		if !ss.authAllowed() {
			ss.reply("-ERR [AUTH] Logins need TLS: use STLS or the implicit TLS port")
			return nil
		}
		if ss.user == "" {
			ss.reply("-ERR Send USER first")
			return nil
		}
		user := ss.user
		ss.user = ""
		ss.login(user, arg)
	case "AUTH":
		return ss.auth(arg)
	case "APOP":
		ss.reply("-ERR APOP is not supported; use USER/PASS or AUTH PLAIN over TLS")
	case "STAT", "LIST", "RETR", "DELE", "RSET", "TOP", "UIDL":
		ss.reply("-ERR Log in first")
	default:
		ss.reply("-ERR Unknown command")
	}
	return nil
}

// stls starts TLS (RFC 2595 4). Whatever the client sent after the
// command, in clear, is discarded.
func (ss *session) stls(arg string) error {
	switch {
	case arg != "":
		ss.reply("-ERR STLS takes no argument")
		return nil
	case ss.srv.cfg.TLS == nil:
		ss.reply("-ERR STLS is not available here")
		return nil
	case ss.tls:
		ss.reply("-ERR TLS is already on")
		return nil
	}
	ss.reply("+OK Begin TLS negotiation")
	if err := ss.w.Flush(); err != nil {
		return err
	}
	if n := ss.r.Buffered(); n > 0 {
		ss.log.Debug("discarding bytes pipelined after STLS", "bytes", n)
	}
	t := tls.Server(ss.raw, ss.srv.cfg.TLS)
	ss.raw.SetDeadline(time.Now().Add(30 * time.Second))
	if err := t.HandshakeContext(ss.ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	ss.raw.SetDeadline(time.Time{})
	ss.conn, ss.tls = t, true
	ss.r, ss.w = bufio.NewReader(t), bufio.NewWriter(t)
	return nil
}

// auth runs AUTH PLAIN (RFC 5034), with or without an initial response.
func (ss *session) auth(arg string) error {
	mech, initial, hasInitial := strings.Cut(arg, " ")
	if mech == "" {
		ss.reply("+OK Mechanisms follow")
		if ss.authAllowed() {
			ss.reply("PLAIN")
		}
		ss.reply(".")
		return nil
	}
	if !ss.authAllowed() {
		ss.reply("-ERR [AUTH] Logins need TLS: use STLS or the implicit TLS port")
		return nil
	}
	if !strings.EqualFold(mech, "PLAIN") {
		ss.reply("-ERR Unsupported mechanism; use PLAIN")
		return nil
	}
	resp := initial
	if !hasInitial {
		ss.reply("+ ")
		if err := ss.w.Flush(); err != nil {
			return err
		}
		line, err := ss.readLine()
		if errors.Is(err, errLineTooLong) {
			ss.reply("-ERR Response too long")
			return nil
		}
		if err != nil {
			return err
		}
		resp = line
	}
	if resp == "*" {
		ss.reply("-ERR Authentication cancelled")
		return nil
	}
	if resp == "=" {
		resp = ""
	}
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		ss.reply("-ERR Malformed base64")
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	if len(parts) != 3 {
		ss.reply("-ERR Malformed PLAIN response")
		return nil
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		ss.reply("-ERR [AUTH] Logging in as another user is not supported")
		return nil
	}
	ss.login(user, pass)
	return nil
}

// login checks a login through tenants.ResolveLogin (the shared throttle,
// user@domain or user/domain), locks the mailbox and reads its INBOX.
func (ss *session) login(user, pass string) {
	defer connlimit.Busy(ss.raw)()
	// A mailbox login: an administrator's bare name is nobody here.
	l, err := ss.srv.cfg.Tenants.ResolveLogin(ss.ctx, tenants.POP3Login, user, pass, ss.raw.RemoteAddr().String())
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le):
		ss.log.Info("login refused", "login", truncate(user), "reason", le.Error())
		// tenants' Reason and wording are what may be said (RFC 3206
		// codes).
		text := le.Error()
		code := "AUTH"
		if le.Reason == tenants.Locked {
			code = "SYS/TEMP"
		}
		ss.reply("-ERR [" + code + "] " + strings.ToUpper(text[:1]) + text[1:])
		return
	case err != nil:
		ss.log.Error("log in", "err", err)
		ss.reply("-ERR [SYS/TEMP] Temporary server failure; try again")
		return
	}
	ok, err := ss.srv.locks.lock(ss.ctx, l.Mailbox.ID)
	if err != nil {
		ss.log.Error("lock mailbox", "err", err)
		ss.reply("-ERR [SYS/TEMP] Temporary server failure; try again")
		return
	}
	if !ok {
		ss.log.Info("mailbox in use", "user", l.Address.String())
		ss.reply("-ERR [IN-USE] The mailbox is open in another POP3 session")
		return
	}
	ss.mailboxID, ss.locked = l.Mailbox.ID, true
	ss.log = ss.log.With("user", l.Address.String())
	// A login that no longer holds (the account disabled, expired, its
	// password changed) ends the session: the connection closes, and
	// nothing marked with DELE is deleted, as when a connection drops
	// (RFC 1939 6); POP3 has no unsolicited response to say why.
	log := ss.log
	ss.unwatch = ss.srv.watch().Watch(l, func() {
		log.Info("session ended: the login no longer holds")
		ss.raw.Close()
	})
	if err := ss.open(); err != nil {
		ss.log.Error("open mailbox", "err", err)
		ss.end()
		ss.reply("-ERR [SYS/TEMP] Temporary server failure; try again")
		return
	}
	ss.state = stateTransaction
	// Logged in: no longer evicted for new connections nor closed at
	// PreAuthTimeout.
	connlimit.Authenticated(ss.raw)
	var size int64
	for _, m := range ss.msgs {
		size += m.Size
	}
	ss.log.Info("logged in", "messages", len(ss.msgs))
	ss.reply(fmt.Sprintf("+OK Logged in: %d messages (%d octets)", len(ss.msgs), size))
}

// open reads the INBOX: the maildrop for the session.
func (ss *session) open() error {
	st := ss.srv.cfg.Store
	if err := st.EnsureFolders(ss.ctx, ss.mailboxID); err != nil {
		return err
	}
	f, err := st.Folder(ss.ctx, ss.mailboxID, "INBOX")
	if err != nil {
		return err
	}
	msgs, err := st.Maildrop(ss.ctx, ss.mailboxID, f.ID)
	if err != nil {
		return err
	}
	ss.folder, ss.msgs = f, msgs
	ss.deleted, ss.retrieved = make([]bool, len(msgs)), make([]bool, len(msgs))
	return nil
}

// end releases the mailbox without changing it.
func (ss *session) end() {
	if ss.unwatch != nil {
		ss.unwatch()
		ss.unwatch = nil
	}
	if ss.locked {
		ss.srv.locks.unlock(ss.mailboxID)
		ss.locked = false
	}
}

// msg parses a message number argument; it answers -ERR itself.
func (ss *session) msg(arg string) (int, bool) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > len(ss.msgs) || strings.TrimLeft(arg, "0123456789") != "" {
		ss.reply("-ERR No such message")
		return 0, false
	}
	if ss.deleted[n-1] {
		ss.reply("-ERR Message " + strconv.Itoa(n) + " is deleted")
		return 0, false
	}
	return n - 1, true
}

func (ss *session) uidl(m *store.MaildropEntry) string {
	// UIDVALIDITY.UID: the message's IMAP identity, stable across
	// sessions and restarts.
	return fmt.Sprintf("%d.%d", ss.folder.UIDValidity, m.UID)
}

func (ss *session) transaction(verb, arg string) {
	switch verb {
	case "STAT":
		var n int
		var size int64
		for i, m := range ss.msgs {
			if !ss.deleted[i] {
				n++
				size += m.Size
			}
		}
		ss.reply(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST", "UIDL":
		if arg != "" {
			i, ok := ss.msg(arg)
			if !ok {
				return
			}
			if verb == "LIST" {
				ss.reply(fmt.Sprintf("+OK %d %d", i+1, ss.msgs[i].Size))
			} else {
				ss.reply(fmt.Sprintf("+OK %d %s", i+1, ss.uidl(&ss.msgs[i])))
			}
			return
		}
		ss.reply("+OK Listing follows")
		for i := range ss.msgs {
			if ss.deleted[i] {
				continue
			}
			if verb == "LIST" {
				ss.reply(fmt.Sprintf("%d %d", i+1, ss.msgs[i].Size))
			} else {
				ss.reply(fmt.Sprintf("%d %s", i+1, ss.uidl(&ss.msgs[i])))
			}
		}
		ss.reply(".")
	case "RETR":
		i, ok := ss.msg(arg)
		if !ok {
			return
		}
		ss.send(i, -1)
	case "TOP":
		n, lines, _ := strings.Cut(arg, " ")
		k, err := strconv.Atoi(lines)
		if err != nil || k < 0 || strings.TrimLeft(lines, "0123456789") != "" {
			ss.reply("-ERR TOP needs a message number and a number of lines (0 or more)")
			return
		}
		i, ok := ss.msg(n)
		if !ok {
			return
		}
		ss.send(i, k)
	case "DELE":
		i, ok := ss.msg(arg)
		if !ok {
			return
		}
		ss.deleted[i] = true
		ss.reply(fmt.Sprintf("+OK Message %d deleted", i+1))
	case "RSET":
		for i := range ss.deleted {
			ss.deleted[i] = false
		}
		ss.reply(fmt.Sprintf("+OK %d messages", len(ss.msgs)))
	case "USER", "PASS", "AUTH", "STLS", "APOP":
		ss.reply("-ERR Already logged in")
	default:
		ss.reply("-ERR Unknown command")
	}
}

// send writes a message (topLines < 0) or its header and first topLines
// body lines, dot-stuffed (RFC 1939 3), with CRLF line ends. Lines are
// read through a fixed buffer, a long line a piece at a time, so a
// message that is one 50 MB line costs no more memory than any other.
func (ss *session) send(i, topLines int) {
	m := &ss.msgs[i]
	r, err := ss.srv.cfg.Store.OpenUID(ss.ctx, ss.mailboxID, ss.folder.ID, m.UID)
	if errors.Is(err, store.ErrNoMessage) {
		// An IMAP session expunged it after this session's login.
		ss.reply("-ERR This message was removed by another session")
		return
	}
	if err != nil {
		ss.log.Error("open message", "uid", m.UID, "err", err)
		ss.reply("-ERR [SYS/TEMP] The message can't be read now")
		return
	}
	defer r.Close()
	if topLines < 0 {
		ss.reply(fmt.Sprintf("+OK %d octets", m.Size))
		ss.retrieved[i] = true
	} else {
		ss.reply("+OK Top of message follows")
	}
	if err := writeStuffed(ss.w, bufio.NewReaderSize(r, 32<<10), topLines); err != nil {
		// The client is gone or the body unreadable; either way the
		// multi-line answer can't be finished, so the connection ends.
		ss.log.Warn("send message", "uid", m.UID, "err", err)
		ss.conn.Close()
		return
	}
	ss.reply(".")
}

// writeStuffed copies a message from br to w with CRLF line ends and
// leading dots doubled; with topLines >= 0 it stops after the header and
// that many body lines. It reads with ReadSlice, whose buffer bounds the
// memory used whatever the line lengths.
func writeStuffed(w *bufio.Writer, br *bufio.Reader, topLines int) error {
	inBody, atStart, pendingCR := false, true, false
	body := 0
	for {
		frag, err := br.ReadSlice('\n')
		full := err == nil // frag ends a line
		if len(frag) > 0 {
			if atStart {
				if inBody && topLines >= 0 {
					if body >= topLines {
						return nil
					}
					body++
				}
				if !inBody && full && (len(frag) == 1 || len(frag) == 2 && frag[0] == '\r') {
					inBody = true
				}
				if frag[0] == '.' {
					w.WriteByte('.')
				}
			}
			content := frag
			if full {
				content = bytes.TrimSuffix(content, []byte("\n"))
				if len(content) == 0 {
					pendingCR = false // the held CR was this line end's
				}
				content = bytes.TrimSuffix(content, []byte("\r"))
			}
			if pendingCR {
				w.WriteByte('\r') // a CR inside the line, not its end
				pendingCR = false
			}
			if !full && content[len(content)-1] == '\r' {
				// Maybe the first half of a CRLF split by the buffer.
				content, pendingCR = content[:len(content)-1], true
			}
			// bufio.Writer's error is sticky: one check a piece finds a
			// client that went away without a flush per line.
			if _, werr := w.Write(content); werr != nil {
				return fmt.Errorf("write message: %w", werr)
			}
			if full {
				w.WriteString("\r\n")
			}
			atStart = full
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if !atStart {
				w.WriteString("\r\n") // the last line had no line end
			}
			return nil
		default:
			return fmt.Errorf("read message: %w", err)
		}
	}
}

// quit enters the UPDATE state: messages marked with DELE are removed,
// retrieved ones get \Seen (RFC 1939 6). Before login it just says bye.
func (ss *session) quit() error {
	if ss.state != stateTransaction {
		ss.reply("+OK Bye")
		return nil
	}
	var del, seen []uint32
	for i, m := range ss.msgs {
		if ss.deleted[i] {
			del = append(del, m.UID)
		} else if ss.retrieved[i] && !m.Seen {
			seen = append(seen, m.UID)
		}
	}
	if err := ss.update(del, seen); err != nil {
		ss.log.Error("update mailbox", "err", err)
		ss.end()
		ss.reply("-ERR [SYS/TEMP] Some deleted messages were not removed")
		return nil
	}
	ss.end()
	ss.log.Info("logged out", "deleted", len(del))
	ss.reply(fmt.Sprintf("+OK Bye: %d messages deleted", len(del)))
	return nil
}

func (ss *session) update(del, seen []uint32) error {
	st := ss.srv.cfg.Store
	// A finished session's update runs even if the server is stopping.
	ctx := context.WithoutCancel(ss.ctx)
	// All of a kind in one call, one transaction, however scattered.
	if len(seen) > 0 {
		if _, err := st.StoreFlags(ctx, ss.folder.ID, store.RangesOf(seen), store.FlagsAdd, store.Flags{store.FlagSeen}); err != nil {
			return err
		}
	}
	if len(del) == 0 {
		return nil
	}
	if _, err := st.StoreFlags(ctx, ss.folder.ID, store.RangesOf(del), store.FlagsAdd, store.Flags{store.FlagDeleted}); err != nil {
		return err
	}
	_, err := st.Expunge(ctx, ss.folder, del)
	return err
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
