package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/mailsvc/mtasts"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// outcome is what an attempt did for one recipient.
type outcome int

const (
	// notTried: the attempt was interrupted (shutdown, lost lease)
	// before this recipient had an answer; nothing is counted.
	notTried outcome = iota
	delivered
	deferred
	failed
)

func (o outcome) String() string {
	switch o {
	case delivered:
		return "delivered"
	case deferred:
		return "deferred"
	case failed:
		return "failed"
	}
	return "interrupted"
}

// result is one recipient's outcome with what the log, the queue page and
// a DSN show.
type result struct {
	outcome outcome
	// status is the enhanced status code (RFC 3463), "5.1.1".
	status string
	// text is the remote reply ("550 5.1.1 no such user") or our reason
	// in general terms ("DNS lookup failed for example.org"): it goes in
	// DSNs to outside senders and on the queue page, so it never holds
	// our own error text (database errors, file paths, our addresses).
	text string
	// reply is the remote reply, when the remote gave one.
	reply string
	// detail is our side's error behind text, for the log only.
	detail string
	// host is where the attempt went: "mx.example.org[192.0.2.1]",
	// "local"; mta is the host name alone, for the DSN.
	host string
	mta  string
}

func deferral(status, format string, args ...any) result {
	return result{outcome: deferred, status: status, text: fmt.Sprintf(format, args...)}
}

func failure(status, format string, args ...any) result {
	return result{outcome: failed, status: status, text: fmt.Sprintf(format, args...)}
}

// because keeps err, the cause of r, for the log.
func (r result) because(err error) result {
	if err != nil {
		r.detail = err.Error()
	}
	return r
}

// maxRcptsPerTransaction is the recipients sent in one SMTP transaction
// (RFC 5321 4.5.3.1.8 requires servers to take at least 100).
const maxRcptsPerTransaction = 100

// attempt delivers a leased message to its due recipients and records the
// outcome.
func (q *Queue) attempt(ctx context.Context, j *job) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := q.keepLease(actx, j, cancel)
	results := make([]result, len(j.rcpts))
	st, err := q.current(actx)
	if err == nil {
		q.send(actx, st, j, results)
	}
	stop()
	if err != nil {
		q.log.WarnContext(ctx, "queue: read delivery options", "queue_id", j.msg.ID, "err", err)
		q.release(ctx, j)
		return
	}
	if actx.Err() != nil {
		// Stopped mid-way: what failed because of the stop is not an
		// attempt; the message is handed back as it was.
		for i := range results {
			if results[i].outcome == deferred {
				results[i] = result{}
			}
		}
	}
	q.finish(ctx, st, j, results)
}

// send delivers to every due recipient: local ones through the
// LocalDeliverer, remote ones grouped by the host they go to, one SMTP
// transaction per group.
func (q *Queue) send(ctx context.Context, st *settings, j *job, results []result) {
	type group struct {
		dest *dest
		idx  []int
	}
	var groups []*group
	byKey := map[string]*group{}
	type lookup struct {
		d   *dest
		res result
	}
	byDomain := map[string]lookup{}
	var local []int
	for i, r := range j.rcpts {
		if r.IsLocal {
			local = append(local, i)
			continue
		}
		l, ok := byDomain[r.Domain]
		if !ok {
			l.d, l.res = q.destination(ctx, st, r.Domain)
			byDomain[r.Domain] = l
		}
		if l.d == nil {
			results[i] = l.res
			q.logResult(ctx, j, i, l.res)
			continue
		}
		g := byKey[l.d.key()]
		if g == nil || len(g.idx) >= maxRcptsPerTransaction {
			g = &group{dest: l.d}
			byKey[l.d.key()] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	for _, i := range local {
		if ctx.Err() != nil {
			return
		}
		results[i] = q.deliverLocal(ctx, j, i)
		q.logResult(ctx, j, i, results[i])
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			return
		}
		q.deliverRemote(ctx, g.dest, j, g.idx, results)
		for _, i := range g.idx {
			q.logResult(ctx, j, i, results[i])
		}
	}
}

// logResult writes the one line per recipient and attempt a postmaster
// needs to answer "where is my mail".
func (q *Queue) logResult(ctx context.Context, j *job, i int, r result) {
	if r.outcome == notTried {
		return
	}
	rc := j.rcpts[i]
	args := []any{"queue_id", j.msg.ID, "rcpt", rc.Rcpt, "result", r.outcome.String(), "remote_host", r.host,
		"reply", r.text, "attempt", rc.Attempts + 1, "from", j.msg.MailFrom, "kind", j.msg.Kind}
	if r.detail != "" {
		args = append(args, "err", r.detail)
	}
	if r.outcome == delivered {
		q.log.InfoContext(ctx, "delivery", args...)
	} else {
		q.log.WarnContext(ctx, "delivery", args...)
	}
}

// deliverLocal hands a copy to the LocalDeliverer.
func (q *Queue) deliverLocal(ctx context.Context, j *job, i int) result {
	rc := j.rcpts[i]
	l := q.local
	if l == nil {
		r := deferral("4.3.0", "local delivery is not available")
		r.host = "local"
		return r
	}
	if !rc.Notify {
		// The archive copy: a mailbox that forwards would send every
		// copy out again, which the settings refuse; check again, as
		// forwards may have been added since.
		if a, err := address.ParseAddress(rc.Rcpt); err == nil {
			if plan, err := q.tenants.ResolveRecipient(ctx, a); err == nil && len(plan.Forward) > 0 {
				r := failure("5.4.6", "archive mailbox %s forwards its mail; copy not delivered to avoid a loop", rc.Rcpt)
				r.host = "local"
				return r
			}
		}
	}
	body, err := q.open(ctx, j)
	if err != nil {
		r := deferral("4.3.0", "local error reading the message").because(err)
		r.host = "local"
		return r
	}
	defer body.Close()
	err = l.DeliverLocal(ctx, j.msg.MailFrom, []string{rc.Rcpt}, body)
	var r result
	switch {
	case err == nil:
		r = result{outcome: delivered, status: "2.0.0", text: "delivered locally"}
	case errors.Is(err, tenants.ErrNoSuchUser), errors.Is(err, tenants.ErrNotHosted):
		r = failure("5.1.1", "no mailbox %s here", rc.Rcpt).because(err)
	case errors.Is(err, tenants.ErrDisabled):
		r = failure("5.2.1", "mailbox %s is disabled", rc.Rcpt).because(err)
	default:
		r = deferral("4.2.0", "local delivery failed temporarily").because(err)
	}
	r.host = "local"
	return r
}

// messageBody reads a queued message as sent: prefix, then blob.
type messageBody struct {
	io.Reader
	closer io.Closer
}

func (b *messageBody) Close() error { return b.closer.Close() }

func (q *Queue) open(ctx context.Context, j *job) (*messageBody, error) {
	r, err := q.store.Blobs().Open(ctx, j.msg.BlobKey)
	if err != nil {
		return nil, err
	}
	return &messageBody{Reader: io.MultiReader(strings.NewReader(j.msg.Prefix), r), closer: r}, nil
}

// dest is where a group of recipients goes.
type dest struct {
	kind  string   // "mx", "route", "smarthost"
	hosts []string // host names or IP addresses, in order
	port  int
	// implicitMX: the domain had no MX record and is its own host.
	implicitMX  bool
	implicitTLS bool
	username    string
	password    string
	delay       time.Duration
	// resolver finds MX hosts' addresses.
	resolver *resolver
	// sts is the MTA-STS policy (mode enforce or testing) of domain,
	// the recipients' domain (RFC 8461); nil: none.
	sts    *mtasts.Policy
	domain string
}

func (d *dest) key() string {
	k := d.kind + ":" + strings.Join(d.hosts, ",") + ":" + strconv.Itoa(d.port) + ":" + d.username
	if d.sts != nil {
		// A domain with a policy goes alone, even when it shares its MX
		// hosts with others.
		k += ":sts:" + d.domain
	}
	return k
}

// enforced reports whether d's MTA-STS policy is in force (not testing).
func (d *dest) enforced() bool { return d.sts != nil && d.sts.Mode == mtasts.ModeEnforce }

// relay reports whether the hosts are a configured relay, not MX hosts.
func (d *dest) relay() bool { return d.kind != "mx" }

// destination decides where a domain's mail goes: its route, else the
// smart host, else its MX hosts. A nil dest comes with the recipient's
// result (a lookup that failed).
func (q *Queue) destination(ctx context.Context, st *settings, domain string) (*dest, result) {
	rt, err := q.route(ctx, domain)
	if err != nil {
		return nil, deferral("4.3.0", "local error finding the route to %s", domain).because(err)
	}
	if rt != nil {
		d := &dest{kind: "route", hosts: []string{rt.Host}, port: rt.Port, implicitTLS: rt.ImplicitTLS, username: rt.Username}
		if rt.Username != "" {
			if d.password, err = q.sealer.open(rt.PasswordEnc, routeOwner(rt.Domain)); err != nil {
				return nil, deferral("4.3.5", "local configuration error: the route to %s can't be used", domain).because(err)
			}
		}
		return d, result{}
	}
	if sh := st.SmartHost; sh.Host != "" {
		d := &dest{kind: "smarthost", hosts: []string{sh.Host}, port: sh.Port, implicitTLS: sh.ImplicitTLS,
			username: sh.Username, delay: st.SmartHostDelay}
		if sh.Username != "" {
			if d.password, err = q.sealer.open(sh.PasswordEnc, smartHostOwner); err != nil {
				return nil, deferral("4.3.5", "local configuration error: the smart host can't be used").because(err)
			}
		}
		return d, result{}
	}
	if strings.HasPrefix(domain, "[") {
		ip, err := parseLiteral(domain)
		if err != nil {
			return nil, failure("5.1.2", "invalid address literal %s", domain).because(err)
		}
		return &dest{kind: "mx", hosts: []string{ip.String()}, port: q.opts.RemotePort}, result{}
	}
	res := q.resolver(st)
	hosts, implicit, err := res.lookupMX(ctx, domain)
	if err != nil {
		perm, status := isDNSPermanent(err)
		r := deferral(status, "%s", dnsReason(err)).because(err)
		if perm {
			r.outcome = failed
		}
		return nil, r
	}
	d := &dest{kind: "mx", hosts: hosts, port: q.opts.RemotePort, implicitMX: implicit, resolver: res, domain: domain}
	if d.sts, err = q.stsPolicy(ctx, res, domain); err != nil {
		return nil, deferral("4.3.0", "local error finding the MTA-STS policy of %s", domain).because(err)
	}
	return d, result{}
}

func (q *Queue) resolver(st *settings) *resolver {
	server := st.DNSServer
	if server == "" {
		server = q.opts.DNSServer
	}
	return &resolver{server: server, timeout: 10 * time.Second}
}

// parseLiteral parses an address literal: "[192.0.2.1]", "[IPv6:2001:db8::1]".
func parseLiteral(s string) (netip.Addr, error) {
	in := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	in = strings.TrimPrefix(strings.TrimPrefix(in, "IPv6:"), "ipv6:")
	ip, err := netip.ParseAddr(in)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address literal %s: %w", s, err)
	}
	return ip, nil
}
