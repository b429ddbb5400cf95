package msgauth

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
)

// maxSignatures bounds the DKIM signatures verified per message: each costs
// a DNS lookup and a pass over the body, and the sender chooses how many
// there are.
const maxSignatures = 5

// Checker evaluates incoming mail.
type Checker struct {
	res *dnsres.Resolver
	// sample decides DMARC's pct= sampling: true when a message of
	// percent falls under the policy; tests replace it.
	sample func(percent int) bool
}

// NewChecker returns a Checker asking res.
func NewChecker(res *dnsres.Resolver) *Checker {
	return &Checker{res: res, sample: func(p int) bool { return rand.IntN(100) < p }}
}

// Input is what a check looks at: the SMTP session's client, HELO name and
// envelope sender, and the message as received.
type Input struct {
	Remote   netip.Addr
	HELO     string
	MailFrom string // the envelope sender's address; "" for the null sender
	Message  func() io.Reader
	Header   textproto.Header
}

// DKIMResult is one signature's verdict.
type DKIMResult struct {
	Result    string // pass, fail, neutral, temperror, permerror
	Domain    string // d=
	Selector  string // s=
	Algorithm string // a=
	Sig       string // the first characters of b=, telling signatures apart (RFC 6008)
	Reason    string
}

// Verdict is what the checks found.
type Verdict struct {
	SPF       string
	SPFDomain string // the domain checked: MAIL FROM's, or the HELO name's
	SPFHELO   bool   // SPFDomain is the HELO name (null sender)
	MailFrom  string
	DKIM      []DKIMResult // none: the message is not signed
	DMARC     string       // none, pass, fail, temperror, permerror
	FromDom   string       // the author domain (From header); "" when not one address
	Policy    string       // the DMARC policy applied: none, quarantine, reject
}

// Check runs SPF, DKIM and DMARC on a message.
func (c *Checker) Check(ctx context.Context, in Input) Verdict {
	v := Verdict{MailFrom: in.MailFrom, DMARC: None, Policy: string(dmarc.PolicyNone)}
	// SPF of MAIL FROM, or of the HELO name for the null sender
	// (RFC 7208 2.4).
	sender := in.MailFrom
	if _, dom, ok := strings.Cut(in.MailFrom, "@"); ok && in.MailFrom != "" {
		v.SPFDomain = dom
	} else {
		v.SPFDomain, v.SPFHELO, sender = in.HELO, true, "postmaster@"+in.HELO
	}
	v.SPFDomain = strings.ToLower(v.SPFDomain)
	v.SPF = CheckSPF(ctx, c.res, in.Remote, v.SPFDomain, sender, in.HELO)

	v.DKIM = c.verifyDKIM(ctx, in.Message())
	for i, sig := range in.Header.Values("DKIM-Signature") {
		if i >= len(v.DKIM) {
			break
		}
		tags := sigTags(sig)
		v.DKIM[i].Selector, v.DKIM[i].Algorithm = tags["s"], strings.ToLower(tags["a"])
		if b := tags["b"]; len(b) > 8 {
			v.DKIM[i].Sig = b[:8]
		}
		if v.DKIM[i].Domain == "" {
			v.DKIM[i].Domain = strings.ToLower(tags["d"])
		}
	}

	// DMARC (RFC 7489 6.6): one author domain, from a From field of
	// exactly one address.
	froms := in.Header.Values("From")
	if len(froms) != 1 {
		v.DMARC = PermError
		return v
	}
	addrs, err := mail.ParseAddressList(froms[0])
	if err != nil || len(addrs) != 1 {
		v.DMARC = PermError
		return v
	}
	_, dom, _ := strings.Cut(addrs[0].Address, "@")
	v.FromDom = strings.ToLower(strings.TrimSuffix(dom, "."))
	c.dmarc(ctx, &v)
	return v
}

func (c *Checker) verifyDKIM(ctx context.Context, msg io.Reader) []DKIMResult {
	lookup := func(name string) ([]string, error) { return c.res.LookupTXT(ctx, name) }
	vs, err := dkim.VerifyWithOptions(msg, &dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: maxSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return []DKIMResult{{Result: PermError, Reason: "message header unreadable"}}
	}
	out := make([]DKIMResult, 0, len(vs))
	for _, sv := range vs {
		r := DKIMResult{Result: Pass, Domain: strings.ToLower(sv.Domain)}
		switch {
		case sv.Err == nil:
		case dkim.IsTempFail(sv.Err):
			r.Result, r.Reason = TempError, "key unavailable"
		case dkim.IsPermFail(sv.Err):
			r.Result, r.Reason = PermError, sv.Err.Error()
		default:
			r.Result, r.Reason = Fail, sv.Err.Error()
		}
		out = append(out, r)
	}
	return out
}

// sigTags reads a DKIM-Signature's tag=value list (RFC 6376 3.2),
// whitespace removed.
func sigTags(v string) map[string]string {
	out := map[string]string{}
	for _, t := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.Join(strings.Fields(val), "")
	}
	return out
}

// dmarc looks up the author domain's policy, falling back to its
// organizational domain (RFC 7489 6.6.3), and evaluates alignment.
func (c *Checker) dmarc(ctx context.Context, v *Verdict) {
	lookup := func(name string) ([]string, error) { return c.res.LookupTXT(ctx, name) }
	org := orgDomain(v.FromDom)
	rec, err := dmarc.LookupWithOptions(v.FromDom, &dmarc.LookupOptions{LookupTXT: lookup})
	atOrg := false
	if errors.Is(err, dmarc.ErrNoPolicy) && org != v.FromDom {
		atOrg = true
		rec, err = dmarc.LookupWithOptions(org, &dmarc.LookupOptions{LookupTXT: lookup})
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		return
	case dmarc.IsTempFail(err):
		v.DMARC = TempError
		return
	case err != nil:
		v.DMARC = PermError
		return
	}
	aligned := func(d string, mode dmarc.AlignmentMode) bool {
		d = strings.ToLower(d)
		if mode == dmarc.AlignmentStrict {
			return d == v.FromDom
		}
		return d != "" && orgDomain(d) == org
	}
	pass := v.SPF == Pass && !v.SPFHELO && aligned(v.SPFDomain, rec.SPFAlignment)
	for _, d := range v.DKIM {
		if d.Result == Pass && aligned(d.Domain, rec.DKIMAlignment) {
			pass = true
		}
	}
	if pass {
		v.DMARC = Pass
		return
	}
	v.DMARC = Fail
	p := rec.Policy
	if atOrg && rec.SubdomainPolicy != "" {
		p = rec.SubdomainPolicy
	}
	// pct= (RFC 7489 6.6.4): messages outside the sample get the next
	// milder policy.
	if rec.Percent != nil && *rec.Percent < 100 && !c.sample(*rec.Percent) {
		switch p {
		case dmarc.PolicyReject:
			p = dmarc.PolicyQuarantine
		case dmarc.PolicyQuarantine:
			p = dmarc.PolicyNone
		}
	}
	v.Policy = string(p)
}

// orgDomain is a domain's organizational domain: the public suffix and one
// label more (RFC 7489 3.2).
func orgDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// Rejects reports whether the author domain's policy refuses the message.
func (v Verdict) Rejects() bool { return v.DMARC == Fail && v.Policy == string(dmarc.PolicyReject) }

// Quarantines reports whether the author domain's policy asks that the
// message be filed as suspicious (Junk).
func (v Verdict) Quarantines() bool {
	return v.DMARC == Fail && v.Policy == string(dmarc.PolicyQuarantine)
}

// Unchecked reports whether domain gave the checks nothing to go by: the
// message's MAIL FROM is in domain, which publishes no SPF record, and no
// DMARC policy applies; no result vouches for such mail or against it.
// A domain that publishes either is checked (Vouches).
func (v Verdict) Unchecked(domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	return domain != "" && !v.SPFHELO && v.SPFDomain == domain && v.SPF == None && v.DMARC == None
}

// Vouches reports whether the checks authenticate mail from domain (an
// envelope sender's, a poster's): SPF passed for a MAIL FROM in domain's
// organizational domain, or a DKIM signature of that organizational domain
// verified (RFC 7489 3.1's relaxed alignment, with domain in the author's
// place). A DMARC pass for a From aligned with domain is one of these.
func (v Verdict) Vouches(domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if domain == "" {
		return false
	}
	org := orgDomain(domain)
	if v.SPF == Pass && !v.SPFHELO && orgDomain(v.SPFDomain) == org {
		return true
	}
	for _, d := range v.DKIM {
		if d.Result == Pass && d.Domain != "" && orgDomain(strings.ToLower(d.Domain)) == org {
			return true
		}
	}
	return false
}
