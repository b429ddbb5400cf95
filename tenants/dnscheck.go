package tenants

import (
	"context"
	"strings"

	"github.com/postdesk/postdesk/tenants/address"
)

// Kinds of DNS records a hosted domain publishes.
const (
	DNSMX    = "MX"
	DNSSPF   = "SPF"
	DNSDKIM  = "DKIM"
	DNSDMARC = "DMARC"
	// DNSMTASTS is the _mta-sts TXT record naming the policy's id,
	// DNSMTASTSHost the mta-sts host that serves the policy (RFC 8461).
	DNSMTASTS     = "MTA-STS"
	DNSMTASTSHost = "MTA-STS host"
	// DNSTLSRPT is the _smtp._tls TXT record naming where senders'
	// TLS reports go (RFC 8460 3).
	DNSTLSRPT = "TLS-RPT"
)

// DNSRecord is a record a hosted domain should publish for Postdesk to
// receive its mail and for other servers to trust what it sends.
type DNSRecord struct {
	Kind  string // DNSMX, DNSSPF, DNSDKIM, DNSDMARC, DNSMTASTS, DNSMTASTSHost, DNSTLSRPT
	Name  string // owner name, with the trailing dot
	Type  string // MX, TXT or CNAME
	Value string
	// Strings is a TXT value cut into character-strings of at most 255
	// octets (the RSA DKIM record needs several).
	Strings []string
	// Selector and State are a DKIM key's.
	Selector, State string
}

// Zone is the record as a zone-file line.
func (r DNSRecord) Zone() string {
	if r.Type != "TXT" {
		return r.Name + " IN " + r.Type + " " + r.Value
	}
	q := make([]string, len(r.Strings))
	for i, s := range r.Strings {
		q[i] = `"` + s + `"`
	}
	return r.Name + " IN TXT " + strings.Join(q, " ")
}

// DNSStatus is a record as DNS shows it: Status is "ok", "missing" or
// "wrong" (Problem says why), or "unknown" when the lookup failed.
type DNSStatus struct {
	DNSRecord
	Published []string
	Status    string
	Problem   string
}

// ExpectedDNS lists the records a domain should publish: its MX (mailHost,
// the name the MX answers to), an SPF policy (RFC 7208) naming its MX as
// the sender, each DKIM key's record (retired ones until their grace
// period ends), a DMARC policy (RFC 7489) that reports to its
// postmaster, a TLS-RPT record (RFC 8460) that does too, and, when its
// MTA-STS mode is not none, the _mta-sts record with the policy's id and
// the mta-sts host, pointed at mailHost, which serves the policy over
// HTTPS (RFC 8461).
func (s *Service) ExpectedDNS(ctx context.Context, sc Scope, name address.Domain, mailHost string) ([]DNSRecord, error) {
	keys, err := s.DKIMKeys(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	dom, err := s.Domain(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	d := name.String()
	mailHost = MailHost(name, mailHost)
	txt := func(kind, owner, v string) DNSRecord {
		return DNSRecord{Kind: kind, Name: owner, Type: "TXT", Value: v, Strings: []string{v}}
	}
	out := []DNSRecord{
		{Kind: DNSMX, Name: d + ".", Type: "MX", Value: "10 " + strings.TrimSuffix(mailHost, ".") + "."},
		txt(DNSSPF, d+".", "v=spf1 mx ~all"),
	}
	now := s.clock()
	for _, k := range keys {
		if k.State == DKIMRetired && k.RetiredAt != nil && now.After(k.RetiredAt.Add(DKIMGrace)) {
			continue
		}
		out = append(out, DNSRecord{Kind: DNSDKIM, Name: k.Record.Name, Type: "TXT", Value: k.Record.Value, Strings: k.Record.Strings,
			Selector: k.Selector, State: k.State})
	}
	out = append(out, txt(DNSDMARC, "_dmarc."+d+".", "v=DMARC1; p=quarantine; rua=mailto:postmaster@"+d))
	if dom.MTASTSMode != "" && dom.MTASTSMode != MTASTSNone {
		host := mailHost
		out = append(out,
			txt(DNSMTASTS, "_mta-sts."+d+".", "v=STSv1; id="+mtastsID(mtastsPolicy(dom.MTASTSMode, host))),
			DNSRecord{Kind: DNSMTASTSHost, Name: "mta-sts." + d + ".", Type: "CNAME", Value: host + "."})
	}
	out = append(out, txt(DNSTLSRPT, "_smtp._tls."+d+".", "v=TLSRPTv1; rua=mailto:postmaster@"+d))
	return out, nil
}
