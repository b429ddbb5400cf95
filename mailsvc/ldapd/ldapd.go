// Package ldapd is a read-only LDAPv3 server (RFC 4511) of each domain's
// local directory and global address book, for mail clients and devices
// that look addresses up. It runs on gldap (our patched copy in
// third_party/gldap), which parses the protocol; binds, scoping and filter
// evaluation are ours.
//
// A domain's base DN is made of its labels (a.test: dc=a,dc=test); its
// directory entries sit under ou=people and its GAB contacts under
// ou=contacts, as inetOrgPerson. A client binds with its login
// (alice@a.test or alice/a.test) through tenants.ResolveLogin, only over
// TLS unless AllowPlaintextAuth; every search answers from the binder's
// own domain whatever base or filter it names.
package ldapd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/tenants"
)

// Bounds of one connection and one request.
const (
	// MaxResults bounds the entries of one search, whatever size limit
	// the client asks for.
	MaxResults = 1000
	// maxSearchTime bounds one search, whatever time limit the client
	// asks for.
	maxSearchTime = 10 * time.Second
	// maxPacket bounds one request; a longer one ends the connection.
	maxPacket = 64 << 10
	// maxFilterLen and maxFilterDepth bound a search filter; address
	// books send short flat ones.
	maxFilterLen   = 4096
	maxFilterDepth = 16
	// maxInFlight bounds the requests one connection has open at once.
	maxInFlight = 4
	// idleTimeout ends a connection that sends nothing for that long.
	idleTimeout = 5 * time.Minute
	// Open connections, LDAP and LDAPS together, by default: address
	// books hold one or two each.
	defaultMaxConns      = 500
	defaultMaxConnsPerIP = 32
)

// Config is what the server needs.
type Config struct {
	Tenants *tenants.Service
	Logger  *slog.Logger
	// TLS serves LDAPS and StartTLS; nil: neither.
	TLS *tls.Config
	// AllowPlaintextAuth lets a simple bind through without TLS (tests).
	AllowPlaintextAuth bool
	// MaxConnections and MaxConnectionsPerIP cap the open connections
	// (0: the defaults, 500 and 32); past a cap a new connection is
	// closed at once.
	MaxConnections      int
	MaxConnectionsPerIP int
}

// Server serves LDAP on any number of listeners.
type Server struct {
	cfg     Config
	log     *slog.Logger
	limiter *connlimit.Limiter

	mu      sync.Mutex
	servers []*gldap.Server
	closed  bool
}

// New makes a server.
func New(cfg Config) (*Server, error) {
	if cfg.Tenants == nil {
		return nil, errors.New("ldapd: no tenants")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = defaultMaxConns
	}
	if cfg.MaxConnectionsPerIP == 0 {
		cfg.MaxConnectionsPerIP = defaultMaxConnsPerIP
	}
	lim := connlimit.New(connlimit.Limits{Total: cfg.MaxConnections, PerIP: cfg.MaxConnectionsPerIP})
	return &Server{cfg: cfg, log: log, limiter: lim}, nil
}

// Serve answers LDAP on ln, with StartTLS (RFC 4511 4.14).
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeTLS answers LDAPS on ln: TLS from the first byte.
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.cfg.TLS == nil {
		return errors.New("ldapd: LDAPS needs a TLS configuration")
	}
	return s.serve(tls.NewListener(idleListener{connlimit.Listen(ln, s.limiter, nil)}, s.cfg.TLS), true)
}

func (s *Server) serve(ln net.Listener, implicitTLS bool) error {
	if !implicitTLS {
		ln = idleListener{connlimit.Listen(ln, s.limiter, nil)}
	}
	c := &conns{srv: s, state: map[int]*connState{}}
	g, err := gldap.NewServer(
		gldap.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Off})),
		gldap.WithMaxPacketBytes(maxPacket),
		gldap.WithMaxRequestsPerConn(maxInFlight),
		gldap.WithOnClose(c.closed),
	)
	if err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	mux, err := gldap.NewMux()
	if err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	if err := mux.Bind(c.bind); err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	if err := mux.Search(c.search); err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	if !implicitTLS && s.cfg.TLS != nil {
		if err := mux.ExtendedOperation(c.startTLS, gldap.ExtendedOperationStartTLS); err != nil {
			return fmt.Errorf("ldapd: %w", err)
		}
	}
	for _, add := range []func(gldap.HandlerFunc, ...gldap.Option) error{mux.Add, mux.Modify, mux.Delete} {
		if err := add(c.readOnly); err != nil {
			return fmt.Errorf("ldapd: %w", err)
		}
	}
	if err := mux.DefaultRoute(c.other); err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	if err := g.Router(mux); err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.servers = append(s.servers, g)
	s.mu.Unlock()
	if err := g.Serve(ln); err != nil {
		return fmt.Errorf("ldapd: %w", err)
	}
	return nil
}

// Shutdown stops every listener and connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, g := range servers {
		if err := g.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// idleListener gives each connection a read deadline that moves on with
// every read, so that a silent client is dropped.
type idleListener struct{ net.Listener }

func (l idleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return idleConn{c}, nil
}

type idleConn struct{ net.Conn }

func (c idleConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(idleTimeout))
	return c.Conn.Read(p)
}

// conns is the per-connection state of one listener: gldap numbers its
// connections per listener.
type conns struct {
	srv   *Server
	mu    sync.Mutex
	state map[int]*connState
}

type connState struct {
	login *tenants.Login
}

func (c *conns) closed(id int) {
	c.mu.Lock()
	delete(c.state, id)
	c.mu.Unlock()
}

func (c *conns) login(id int) *tenants.Login {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.state[id]; st != nil {
		return st.login
	}
	return nil
}

func (c *conns) setLogin(id int, l *tenants.Login) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state[id] = &connState{login: l}
}

func (c *conns) startTLS(w *gldap.ResponseWriter, r *gldap.Request) {
	if r.TLS() {
		res := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultOperationsError), gldap.WithDiagnosticMessage("TLS is already on"))
		_ = w.Write(res)
		return
	}
	res := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	res.SetResponseName(gldap.ExtendedOperationStartTLS)
	if err := w.Write(res); err != nil {
		return
	}
	if err := r.StartTLS(c.srv.cfg.TLS); err != nil {
		c.srv.log.Info("ldap starttls", "remote", remote(r), "err", err)
	}
}

func remote(r *gldap.Request) string {
	if a, ok := r.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	if a := r.RemoteAddr(); a != nil {
		host, _, _ := net.SplitHostPort(a.String())
		return host
	}
	return ""
}

// bind is a simple bind by login (RFC 4513 5.1.3): anonymous and
// unauthenticated binds are refused, and so is a password in the clear.
func (c *conns) bind(w *gldap.ResponseWriter, r *gldap.Request) {
	reply := func(code int, msg string) {
		_ = w.Write(r.NewBindResponse(gldap.WithResponseCode(code), gldap.WithDiagnosticMessage(msg)))
	}
	c.setLogin(r.ConnectionID(), nil) // a new bind ends the old identity (RFC 4511 4.2.1)
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		reply(gldap.ResultAuthMethodNotSupported, "only simple binds are supported")
		return
	}
	if m.UserName == "" || m.Password == "" {
		reply(gldap.ResultInappropriateAuthentication, "anonymous binds are not allowed: bind with your address and password")
		return
	}
	if !r.TLS() && !c.srv.cfg.AllowPlaintextAuth {
		reply(gldap.ResultConfidentialityRequired, "use StartTLS or LDAPS before sending a password")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := c.srv.cfg.Tenants.ResolveLogin(ctx, tenants.LDAPLogin, m.UserName, string(m.Password), remote(r))
	if err != nil {
		var le *tenants.LoginError
		if errors.As(err, &le) {
			c.srv.log.Info("ldap bind refused", "name", m.UserName, "reason", le.Error(), "remote", remote(r))
			// Every refusal is invalidCredentials (RFC 4513 5.1.3);
			// the message says what the login rule lets us say.
			reply(gldap.ResultInvalidCredentials, le.Error())
			return
		}
		c.srv.log.Error("ldap bind", "err", err)
		reply(gldap.ResultOperationsError, "internal error")
		return
	}
	c.setLogin(r.ConnectionID(), l)
	reply(gldap.ResultSuccess, "")
}

// readOnly answers add, modify and delete.
func (c *conns) readOnly(w *gldap.ResponseWriter, r *gldap.Request) {
	app := gldap.ApplicationDelResponse
	if _, err := r.GetAddMessage(); err == nil {
		app = gldap.ApplicationAddResponse
	} else if _, err := r.GetModifyMessage(); err == nil {
		app = gldap.ApplicationModifyResponse
	}
	_ = w.Write(r.NewResponse(gldap.WithApplicationCode(app), gldap.WithResponseCode(gldap.ResultUnwillingToPerform),
		gldap.WithDiagnosticMessage("this directory is read-only")))
}

func (c *conns) other(w *gldap.ResponseWriter, r *gldap.Request) {
	_ = w.Write(r.NewResponse(gldap.WithResponseCode(gldap.ResultUnwillingToPerform), gldap.WithDiagnosticMessage("this directory is read-only")))
}

func (c *conns) search(w *gldap.ResponseWriter, r *gldap.Request) {
	done := func(code int, msg string) {
		_ = w.Write(r.NewSearchDoneResponse(gldap.WithResponseCode(code), gldap.WithDiagnosticMessage(msg)))
	}
	m, err := r.GetSearchMessage()
	if err != nil {
		done(gldap.ResultProtocolError, "bad search request")
		return
	}
	l := c.login(r.ConnectionID())
	if l == nil {
		// The root DSE (RFC 4512 5.1) is not offered either: a client
		// binds first.
		done(gldap.ResultInsufficientAccessRights, "bind first")
		return
	}
	if len(m.Filter) > maxFilterLen {
		done(gldap.ResultUnwillingToPerform, "filter too long")
		return
	}
	f, err := ldap.CompileFilter(m.Filter)
	if err != nil {
		done(gldap.ResultProtocolError, "bad filter")
		return
	}
	if depth(f, 0) > maxFilterDepth {
		done(gldap.ResultUnwillingToPerform, "filter nested too deep")
		return
	}
	limit := MaxResults
	if m.SizeLimit > 0 && m.SizeLimit < int64(limit) {
		limit = int(m.SizeLimit)
	}
	timeout := maxSearchTime
	if m.TimeLimit > 0 && time.Duration(m.TimeLimit)*time.Second < timeout {
		timeout = time.Duration(m.TimeLimit) * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	code, msg := c.srv.answer(ctx, l, m, f, limit, func(e entry) error {
		return w.Write(r.NewSearchResponseEntry(e.dn, gldap.WithAttributes(e.pick(m.Attributes))))
	})
	done(code, msg)
}

// depth is how deeply a compiled filter nests And, Or and Not.
func depth(p *ber.Packet, d int) int {
	if d > maxFilterDepth {
		return d
	}
	max := d
	switch p.Tag {
	case ldap.FilterAnd, ldap.FilterOr, ldap.FilterNot:
		for _, ch := range p.Children {
			if n := depth(ch, d+1); n > max {
				max = n
			}
		}
	}
	return max
}

// answer runs one search in the binder's domain and sends each matching
// entry; it returns the result code and message of the search.
func (s *Server) answer(ctx context.Context, l *tenants.Login, m *gldap.SearchMessage, f *ber.Packet, limit int, send func(entry) error) (int, string) {
	base := domainBase(l.Domain.Name)
	people, contacts := "ou=people,"+base, "ou=contacts,"+base
	want := normDN(m.BaseDN)
	switch {
	case want == base || strings.HasSuffix(want, ","+base):
	case want == "" || strings.HasSuffix(base, ","+want):
		// A base above the domain's (dc=test, the root): the domain's
		// own entries, nothing else.
		want = base
		if m.Scope != gldap.WholeSubtree {
			return gldap.ResultSuccess, ""
		}
	default:
		return gldap.ResultNoSuchObject, "no such object"
	}
	inScope := func(dn string) bool {
		parent := dn[strings.IndexByte(dn, ',')+1:]
		switch m.Scope {
		case gldap.BaseObject:
			return normDN(dn) == want
		case gldap.SingleLevel:
			return parent == want
		}
		return normDN(dn) == want || strings.HasSuffix(normDN(dn), ","+want)
	}
	wantPeople := want == base || want == people || strings.HasSuffix(want, ","+people)
	wantGAB := want == base || want == contacts || strings.HasSuffix(want, ","+contacts)
	terms, all := scanTerms(f)
	if all {
		terms = nil
	}
	code, msg, n := gldap.ResultSuccess, "", 0
	err := s.cfg.Tenants.DirectoryScan(ctx, l, wantPeople, wantGAB, terms, func(p *tenants.DirectoryPerson, c *tenants.Contact) bool {
		var e entry
		if p != nil {
			e = personEntry(*p, people)
		} else {
			e = contactEntry(*c, contacts)
		}
		if !inScope(e.dn) || !e.matches(f) {
			return true
		}
		if n == limit {
			code, msg = gldap.ResultSizeLimitExceeded, "size limit exceeded"
			return false
		}
		if err := send(e); err != nil {
			code, msg = gldap.ResultOther, "write failed"
			return false
		}
		n++
		return true
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return gldap.ResultTimeLimitExceeded, "time limit exceeded"
	case err != nil:
		s.log.Error("ldap search", "err", err)
		return gldap.ResultOperationsError, "internal error"
	}
	return code, msg
}

// scanTerms is what a filter lets the search read only: entries holding
// one of terms, or all of them (all). It over-approximates: every entry
// the filter matches holds a term; the filter itself decides.
func scanTerms(f *ber.Packet) (terms []string, all bool) {
	switch f.Tag {
	case ldap.FilterOr:
		for _, ch := range f.Children {
			t, a := scanTerms(ch)
			if a {
				return nil, true
			}
			terms = append(terms, t...)
		}
		return terms, len(terms) == 0 && len(f.Children) == 0
	case ldap.FilterAnd:
		for _, ch := range f.Children {
			if t, a := scanTerms(ch); !a {
				return t, false
			}
		}
		return nil, true
	case ldap.FilterEqualityMatch:
		if len(f.Children) == 2 && textAttr(str(f.Children[0])) {
			if v := str(f.Children[1]); v != "" {
				return []string{v}, false
			}
		}
	case ldap.FilterSubstrings:
		if len(f.Children) == 2 && textAttr(str(f.Children[0])) {
			longest := ""
			for _, p := range f.Children[1].Children {
				if v := str(p); len(v) > len(longest) {
					longest = v
				}
			}
			if longest != "" {
				return []string{longest}, false
			}
		}
	}
	return nil, true
}

// textAttr says whether an attribute's values are among the texts
// tenants.DirectoryScan narrows by.
func textAttr(name string) bool {
	switch strings.ToLower(name) {
	case "cn", "sn", "givenname", "displayname", "mail", "uid", "telephonenumber", "o", "title":
		return true
	}
	return false
}

// domainBase is a domain's base DN: its labels as dc components.
func domainBase(domain string) string {
	labels := strings.Split(strings.ToLower(domain), ".")
	for i, l := range labels {
		labels[i] = "dc=" + ldap.EscapeDN(l)
	}
	return strings.Join(labels, ",")
}

// normDN lowers a DN and drops the spaces around its components; the
// names compared with it are ours, escaped the same way.
func normDN(dn string) string {
	parts := strings.Split(dn, ",")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		parts[i] = strings.ToLower(strings.TrimSpace(k)) + "=" + strings.ToLower(strings.TrimSpace(v))
	}
	out := strings.Join(parts, ",")
	if out == "=" {
		return ""
	}
	return out
}
