package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// One attempt to one destination dials at most maxAddrsPerAttempt
// addresses and holds at most maxSessionsPerAttempt sessions (connections
// that got through greeting and EHLO), as Postfix's smtp_mx_address_limit
// and smtp_mx_session_limit (same defaults); the other hosts wait for the
// next attempt. No more hosts are looked up than addresses may be dialled,
// so a domain listing a thousand MX hosts costs five lookups, not two
// thousand.
const (
	maxAddrsPerAttempt    = 5
	maxSessionsPerAttempt = 2
)

// deliverRemote sends one message to a group of recipients that go to the
// same hosts: the hosts are tried in order, each of their addresses in
// turn, until one gives the recipients an answer (RFC 5321 5.1), within
// the limits above and Options.AttemptTimeout. Trouble before the
// transaction (no connection, a refusing greeting, a 4xx to MAIL) moves on
// to the next host.
func (q *Queue) deliverRemote(ctx context.Context, d *dest, j *job, idx []int, results []result) {
	if d.kind == "smarthost" && d.delay > 0 {
		t := time.NewTimer(d.delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	// One deadline for the lookups, connections and sessions, so that a
	// slow or hostile destination holds a worker for a bounded time.
	actx, cancel := context.WithTimeout(ctx, q.opts.AttemptTimeout)
	defer cancel()
	last := deferral("4.4.1", "no host to connect to")
	noAddress := true
	hosts := d.hosts
	if len(hosts) > maxAddrsPerAttempt {
		hosts = hosts[:maxAddrsPerAttempt]
	}
	addrs, sessions := 0, 0
tries:
	for _, host := range hosts {
		if actx.Err() != nil || addrs >= maxAddrsPerAttempt || sessions >= maxSessionsPerAttempt {
			break
		}
		if d.sts != nil && !d.sts.AllowsMX(host) {
			// RFC 8461 4.1: an MX host the policy does not name gets
			// no mail when it is enforced.
			if d.enforced() {
				noAddress = false
				last = deferral("4.7.5", "MX host %s is not named by the MTA-STS policy of %s", host, d.domain)
				last.host = host
				continue
			}
			q.stsTesting(actx, d, host, "MX host not named by the policy", nil)
		}
		ips, err := q.hostIPs(actx, d, host)
		if err != nil {
			perm, status := isDNSPermanent(err)
			noAddress = noAddress && perm
			if perm {
				status = "4.4.4"
			}
			last = deferral(status, "%s", dnsReason(err)).because(err)
			last.host = host
			continue
		}
		noAddress = false
		for _, ip := range ips {
			if addrs >= maxAddrsPerAttempt || sessions >= maxSessionsPerAttempt {
				break tries
			}
			addrs++
			done, res, session := q.transact(actx, d, host, ip, j, idx, results)
			if done {
				return
			}
			if session {
				sessions++
			}
			last = res
			if actx.Err() != nil {
				break tries
			}
		}
	}
	if ctx.Err() != nil {
		// Stopped (shutdown, lost lease), not timed out: the attempt
		// hands the message back.
		return
	}
	if d.implicitMX && noAddress {
		// No MX and the domain has no address either: nothing will ever
		// take its mail (RFC 5321 5.1).
		last.outcome, last.status = failed, "5.4.4"
	}
	for _, i := range idx {
		results[i] = last
	}
}

// hostIPs finds a host's addresses: MX hosts through the configured DNS
// server; relay hosts (routes, smart host) through the system resolver, so
// /etc/hosts applies to them.
func (q *Queue) hostIPs(ctx context.Context, d *dest, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	if !d.relay() {
		return d.resolver.lookupIP(ctx, host)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, tempDNS(host, "", err)
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips, nil
}

// transact runs one SMTP transaction with one address of a host. done is
// false when the recipients got no answer there and the next address or
// host should be tried; res says why. session says the connection got
// through greeting and EHLO.
func (q *Queue) transact(ctx context.Context, d *dest, host string, ip netip.Addr, j *job, idx []int, results []result) (done bool, res result, session bool) {
	where := host + "[" + ip.String() + "]"
	if host == ip.String() {
		where = "[" + ip.String() + "]"
	}
	at := func(r result) result {
		r.host, r.mta = where, host
		return r
	}
	// Credentials never go over a connection an eavesdropper could read,
	// so a relay that gets them must do TLS with a certificate that
	// verifies; other hosts get opportunistic TLS (RFC 7435), and fall
	// back to plain text when the TLS handshake fails.
	// A domain's MTA-STS policy (RFC 8461 4.2) asks for TLS with a
	// certificate that verifies for the MX host's name: enforced, nothing
	// less will do; in testing mode a failure is only reported.
	var sts stsCheck
	c, secure, err := q.connect(ctx, d, host, ip, true, &sts)
	if errors.Is(err, errTLSHandshake) && d.enforced() {
		r := deferral("4.7.5", "TLS with %s failed, and the MTA-STS policy of %s requires it", host, d.domain).because(err)
		if sts.err != nil {
			r = deferral("4.7.5", "the certificate of %s does not verify, as the MTA-STS policy of %s requires", host, d.domain).because(sts.err)
		}
		return false, at(r), false
	}
	if errors.Is(err, errTLSHandshake) && d.username == "" {
		q.log.InfoContext(ctx, "queue: TLS handshake failed; trying without TLS", "remote_host", where, "err", err)
		c, secure, err = q.connect(ctx, d, host, ip, false, nil)
	}
	if err != nil {
		return false, at(connResult(ctx, host, err)), false
	}
	defer c.Close()
	if d.sts != nil {
		switch {
		case !secure && d.enforced():
			return false, at(deferral("4.7.5", "%s offers no STARTTLS, which the MTA-STS policy of %s requires", host, d.domain)), true
		case !secure:
			q.stsTesting(ctx, d, where, "no TLS", nil)
		case sts.err != nil:
			q.stsTesting(ctx, d, where, "certificate does not verify", sts.err)
		}
	}
	if d.username != "" {
		if !secure {
			return false, at(deferral("4.7.10", "%s offers no TLS; credentials are only sent over TLS", host)), true
		}
		var auth sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			auth = sasl.NewPlainClient("", d.username, d.password)
		case c.SupportsAuth(sasl.Login):
			auth = sasl.NewLoginClient(d.username, d.password)
		default:
			return false, at(deferral("4.7.12", "%s offers no AUTH PLAIN or LOGIN", host)), true
		}
		if err := c.Auth(auth); err != nil {
			// A refused login is the administrator's to fix, never a
			// reason to return mail: retried.
			r := smtpResult(ctx, host, err)
			r.outcome, r.status = deferred, "4"+r.status[1:]
			r.text = "authentication failed: " + r.text
			return false, at(r), true
		}
	}

	opts := &smtp.MailOptions{Size: j.msg.Size}
	utf8 := !isASCII(j.msg.MailFrom)
	for _, i := range idx {
		utf8 = utf8 || !isASCII(j.rcpts[i].Rcpt)
	}
	if utf8 {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			for _, i := range idx {
				results[i] = at(failure("5.6.7", "%s does not support SMTPUTF8, needed for this address", host))
			}
			return true, result{}, true
		}
		opts.UTF8 = true
	}
	if err := c.Mail(j.msg.MailFrom, opts); err != nil {
		r := at(smtpResult(ctx, host, err))
		if r.outcome == failed {
			for _, i := range idx {
				results[i] = r
			}
			return true, result{}, true
		}
		return false, r, true
	}
	var accepted []int
	for _, i := range idx {
		if err := c.Rcpt(j.rcpts[i].Rcpt, nil); err != nil {
			results[i] = at(smtpResult(ctx, host, err))
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				// The connection broke: the rest get the same.
				for _, k := range idx {
					if results[k].outcome == notTried {
						results[k] = results[i]
					}
				}
				return true, result{}, true
			}
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		c.Quit()
		return true, result{}, true
	}
	setAll := func(r result) {
		for _, i := range accepted {
			results[i] = r
		}
	}
	body, err := q.open(ctx, j)
	if err != nil {
		c.Reset()
		setAll(at(deferral("4.3.0", "local error reading the message").because(err)))
		return true, result{}, true
	}
	defer body.Close()
	w, err := c.Data()
	if err != nil {
		setAll(at(smtpResult(ctx, host, err)))
		return true, result{}, true
	}
	if _, err := io.Copy(w, body); err != nil {
		setAll(at(deferral("4.4.2", "%s while sending the message", netReason(ctx, host, err, "lost connection with %s")).because(err)))
		return true, result{}, true
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		setAll(at(smtpResult(ctx, host, err)))
		return true, result{}, true
	}
	reply := "250 " + oneLine(resp.StatusText)
	setAll(at(result{outcome: delivered, status: "2.0.0", text: reply, reply: reply}))
	c.Quit()
	return true, result{}, true
}

// errTLSHandshake is a STARTTLS or TLS handshake that failed.
var errTLSHandshake = errors.New("TLS handshake failed")

// connect opens an SMTP session with host at ip: greeting, EHLO, TLS
// (implicit, or STARTTLS when offered and tryTLS), AUTH left to the
// caller. secure says TLS is on, with a verified certificate when the
// destination gets credentials.
//
// With sts not nil, the certificate is checked as d's MTA-STS policy
// asks and sts says how that went.
func (q *Queue) connect(ctx context.Context, d *dest, host string, ip netip.Addr, tryTLS bool, sts *stsCheck) (*smtp.Client, bool, error) {
	dialer := net.Dialer{Timeout: q.opts.DialTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, uint16(d.port)).String())
	if err != nil {
		return nil, false, fmt.Errorf("connect: %w", err)
	}
	// go-smtp's client takes no context: closing the connection when ctx
	// ends stops it wherever it waits.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	cfg := q.tlsConfig(d, host, sts)
	var nc net.Conn = conn
	if d.implicitTLS {
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, q.opts.CommandTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			stop()
			return nil, false, fmt.Errorf("%w: %v", errTLSHandshake, err)
		}
		nc = tc
	}
	nc, secure, err := q.prelude(ctx, nc, d.implicitTLS, host, cfg, tryTLS)
	if err != nil {
		conn.Close()
		stop()
		return nil, false, err
	}
	c := smtp.NewClient(&ctxConn{Conn: nc, stop: stop})
	c.CommandTimeout = q.opts.CommandTimeout
	c.SubmissionTimeout = 2 * q.opts.CommandTimeout
	if err := c.Hello(q.hostname); err != nil {
		c.Close()
		return nil, false, fmt.Errorf("EHLO: %w", err)
	}
	return c, secure, nil
}

// ctxConn stops the context watch when the connection closes.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// tlsConfig verifies the certificate of a relay that gets credentials
// (against Options.RootCAs); for everything else TLS is opportunistic and
// unauthenticated, as on the public MX network, where certificates rarely
// match (RFC 7435), unless the domain's MTA-STS policy asks for a
// certificate that verifies (see stsVerify).
func (q *Queue) tlsConfig(d *dest, host string, sts *stsCheck) *tls.Config {
	cfg := &tls.Config{ServerName: strings.Trim(host, "[]"), MinVersion: tls.VersionTLS12}
	switch {
	case d.username != "":
		cfg.RootCAs = q.opts.RootCAs
	case d.sts != nil && sts != nil:
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = q.stsVerify(d, cfg.ServerName, sts)
	default:
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// prelude does the start of a session itself: greeting, then on a plain
// connection EHLO with our host name and, when offered, STARTTLS. go-smtp's
// client can only STARTTLS before its own first EHLO, which would
// introduce us as "localhost"; so the connection is handed to it after
// TLS, replaying a greeting, and it says EHLO again as RFC 3207 4.2
// requires. Without TLS the server has had our EHLO already: the replay
// then answers go-smtp's own EHLO with that reply, and the server sees
// EHLO once (a second one is allowed by RFC 5321 4.1.4, but strict
// servers answer it 503 and the message stayed deferred). conn is already
// TLS when secure (implicit TLS).
//
// Everything read from the server, here and then by go-smtp's client,
// goes through one readLimits. Timeouts (RFC 5321 4.5.3.2): the greeting
// gets Options.GreetingTimeout, each reply after it CommandTimeout.
func (q *Queue) prelude(ctx context.Context, conn net.Conn, secure bool, host string, cfg *tls.Config, tryTLS bool) (net.Conn, bool, error) {
	defer conn.SetDeadline(time.Time{})
	lim := &readLimits{}
	tp := textproto.NewConn(struct {
		io.Reader
		io.WriteCloser
	}{lim.reader(conn), conn})
	conn.SetDeadline(time.Now().Add(q.opts.GreetingTimeout))
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, false, fmt.Errorf("greeting: %w", protoErr(err))
	}
	if secure {
		return replay(conn, tp.R, host), true, nil
	}
	conn.SetDeadline(time.Now().Add(q.opts.CommandTimeout))
	_, msg, err := cmd(tp, 250, "EHLO %s", q.hostname)
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		// An old server without EHLO: go-smtp falls back to HELO.
		return replay(conn, tp.R, host), false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("EHLO: %w", err)
	}
	// Our EHLO, answered, for go-smtp's client if TLS does not start.
	ehlo := &answered{line: "EHLO " + q.hostname + "\r\n", reply: replyText(250, msg)}
	startTLS := false
	for _, line := range strings.Split(msg, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(line), "STARTTLS") {
			startTLS = true
		}
	}
	if !startTLS || !tryTLS {
		return replayAfterEHLO(conn, tp.R, host, ehlo), false, nil
	}
	conn.SetDeadline(time.Now().Add(q.opts.CommandTimeout))
	if _, _, err := cmd(tp, 220, "STARTTLS"); err != nil {
		// A refused STARTTLS leaves the session as EHLO left it.
		return replayAfterEHLO(conn, tp.R, host, ehlo), false, nil
	}
	if tp.R.Buffered() > 0 {
		// Plain text sent after the STARTTLS reply would be read as if
		// it came over TLS (CVE-2011-0411 and kin).
		return nil, false, errDataAfterSTARTTLS
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, false, fmt.Errorf("%w: %v", errTLSHandshake, err)
	}
	return replay(tc, lim.reader(tc), host), true, nil
}

// errDataAfterSTARTTLS is a server that sent more than its reply to
// STARTTLS before the TLS handshake.
var errDataAfterSTARTTLS = errors.New("server sent data after its STARTTLS reply")

func cmd(tp *textproto.Conn, expect int, format string, args ...any) (int, string, error) {
	id, err := tp.Cmd(format, args...)
	if err != nil {
		return 0, "", err
	}
	tp.StartResponse(id)
	defer tp.EndResponse(id)
	code, msg, err := tp.ReadResponse(expect)
	return code, msg, protoErr(err)
}

// protoErr turns a textproto reply error into the *smtp.SMTPError
// go-smtp's client returns.
func protoErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &smtp.SMTPError{Code: te.Code, Message: te.Msg}
	}
	return err
}

// replayConn reads a made-up greeting (and the reply to an EHLO already
// sent), then the connection.
type replayConn struct {
	net.Conn
	r io.Reader
	// ehlo is the EHLO line already sent and answered, which go-smtp's
	// first write must repeat and which is then not sent again; "" once
	// written, or when there is none.
	ehlo string
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (c *replayConn) Write(b []byte) (int, error) {
	if c.ehlo == "" {
		return c.Conn.Write(b)
	}
	want := c.ehlo
	c.ehlo = ""
	if string(b) != want {
		// The replayed reply would answer something else.
		return 0, fmt.Errorf("client wrote %q where its EHLO was expected", oneLine(string(b)))
	}
	return len(b), nil
}

// replay hands go-smtp conn, read through rest (what the prelude has
// not consumed yet, under its limits), after a made-up greeting.
func replay(conn net.Conn, rest io.Reader, host string) net.Conn {
	greeting := "220 " + oneLine(host) + " ESMTP\r\n"
	return &replayConn{Conn: conn, r: io.MultiReader(strings.NewReader(greeting), rest)}
}

// answered is an EHLO the prelude sent and the server's reply to it.
type answered struct {
	line  string // the command, CRLF included
	reply string // the reply as sent, CRLFs included
}

// replayAfterEHLO is replay for a session whose EHLO the prelude has
// done: go-smtp's client, whose first write is its EHLO with the same host
// name (connect calls Hello first), gets the server's reply to ours and
// its EHLO is not sent.
func replayAfterEHLO(conn net.Conn, rest io.Reader, host string, ehlo *answered) net.Conn {
	greeting := "220 " + oneLine(host) + " ESMTP\r\n"
	return &replayConn{Conn: conn, r: io.MultiReader(strings.NewReader(greeting+ehlo.reply), rest), ehlo: ehlo.line}
}

// replyText writes a reply read by textproto (lines joined by "\n")
// back in its wire form.
func replyText(code int, msg string) string {
	var b strings.Builder
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		fmt.Fprintf(&b, "%d%s%s\r\n", code, sep, l)
	}
	return b.String()
}

// smtpResult classifies an SMTP client error from a session with host: 5xx
// is permanent, anything else (4xx, a broken connection, a timeout)
// temporary.
func smtpResult(ctx context.Context, host string, err error) result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		ec := ""
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			ec = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		text := fmt.Sprintf("%d %s", se.Code, oneLine(se.Message))
		if ec != "" {
			text = fmt.Sprintf("%d %s %s", se.Code, ec, oneLine(se.Message))
		}
		switch se.Code / 100 {
		case 5:
			if ec == "" || ec[0] != '5' {
				ec = "5.0.0"
			}
			return result{outcome: failed, status: ec, text: text, reply: text}
		default:
			if ec == "" || ec[0] != '4' {
				ec = "4.0.0"
			}
			return result{outcome: deferred, status: ec, text: text, reply: text}
		}
	}
	return deferral("4.4.2", "%s", netReason(ctx, host, err, "lost connection with %s")).because(err)
}

// connResult is the result of a session with host that never got through
// greeting and EHLO.
func connResult(ctx context.Context, host string, err error) result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		// A refusing greeting or EHLO: try elsewhere, retry later.
		r := smtpResult(ctx, host, err)
		r.outcome = deferred
		if r.status[0] == '5' {
			r.status = "4" + r.status[1:]
		}
		return r
	}
	// No answer (refused, unreachable, timed out): 4.4.1 (RFC 3463).
	return deferral("4.4.1", "%s", netReason(ctx, host, err, "connection to %s failed")).because(err)
}

// netReason says what went wrong with the connection to host in terms
// fit for a DSN to an outside sender: never our own error text, which
// names our addresses; that goes to the log. other is the format for host
// when nothing more is known: "connection to %s failed".
func netReason(ctx context.Context, host string, err error, other string) string {
	var le *limitError
	var ne net.Error
	switch {
	case errors.As(err, &le):
		return host + " sent " + le.what
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return "connection to " + host + " timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection to " + host + " refused"
	case errors.Is(err, errTLSHandshake):
		return "TLS handshake with " + host + " failed"
	case errors.Is(err, errDataAfterSTARTTLS):
		return host + " sent data after its STARTTLS reply"
	}
	return fmt.Sprintf(other, host)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// oneLine keeps remote text on one log and DSN line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 1000 {
		s = s[:1000]
	}
	return strings.TrimSpace(s)
}
