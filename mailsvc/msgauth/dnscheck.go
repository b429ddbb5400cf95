package msgauth

import (
	"context"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"

	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/tenants"
)

// DNSCheck looks up what DNS shows for each record a domain should publish
// (tenants.ExpectedDNS) and says whether it is ok, missing or wrong. What
// counts as ok is what makes mail work, not the suggested text: any MX
// naming our host, one SPF policy that does not allow everyone (RFC 7208
// 4.5), each DKIM key's value exactly, one DMARC policy that parses.
func DNSCheck(ctx context.Context, res *dnsres.Resolver, recs []tenants.DNSRecord) []tenants.DNSStatus {
	out := make([]tenants.DNSStatus, len(recs))
	for i, r := range recs {
		st := tenants.DNSStatus{DNSRecord: r}
		name := strings.TrimSuffix(r.Name, ".")
		var err error
		switch r.Type {
		case "MX":
			st.Published, err = res.LookupMX(ctx, name)
		case "CNAME":
			var target string
			if target, err = res.LookupCNAME(ctx, name); err == nil {
				st.Published = []string{target}
			}
		default:
			st.Published, err = res.LookupTXT(ctx, name)
		}
		switch {
		case dnsres.IsNotFound(err):
			st.Published = nil
		case err != nil:
			st.Status, st.Problem = "unknown", "the lookup failed; try again later"
			out[i] = st
			continue
		}
		st.Status, st.Problem = judge(r, st.Published)
		out[i] = st
	}
	return out
}

func judge(r tenants.DNSRecord, published []string) (string, string) {
	switch r.Kind {
	case tenants.DNSMX:
		if len(published) == 0 {
			return "missing", "no MX record: other servers can't deliver mail for the domain here"
		}
		want := strings.TrimSuffix(strings.Fields(r.Value)[1], ".")
		for _, h := range published {
			if strings.EqualFold(h, want) {
				return "ok", ""
			}
		}
		return "wrong", "the MX records name other hosts, not " + want
	case tenants.DNSSPF:
		var spf []string
		for _, t := range published {
			if l := strings.ToLower(t); l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
				spf = append(spf, l)
			}
		}
		switch {
		case len(spf) == 0:
			return "missing", "no SPF policy"
		case len(spf) > 1:
			return "wrong", "more than one SPF policy: receivers treat that as an error (permerror)"
		case strings.HasSuffix(spf[0], "+all") || strings.HasSuffix(spf[0], " all"):
			return "wrong", "the SPF policy allows every host to send for the domain"
		}
		return "ok", ""
	case tenants.DNSDKIM:
		if len(published) == 0 {
			return "missing", "the key's record is not published"
		}
		for _, t := range published {
			if squeeze(t) == squeeze(r.Value) {
				if len(published) > 1 {
					return "wrong", "more than one TXT record under the selector"
				}
				return "ok", ""
			}
		}
		return "wrong", "the published key is not this one"
	case tenants.DNSDMARC:
		var recs []string
		for _, t := range published {
			if strings.HasPrefix(t, "v=DMARC1") {
				recs = append(recs, t)
			}
		}
		switch {
		case len(recs) == 0:
			return "missing", "no DMARC policy"
		case len(recs) > 1:
			return "wrong", "more than one DMARC policy"
		}
		if _, err := dmarc.Parse(recs[0]); err != nil {
			return "wrong", "the DMARC policy does not parse: " + err.Error()
		}
		return "ok", ""
	case tenants.DNSMTASTS:
		return judgeOne(published, "v=STSv1", "MTA-STS record", func(t string) string {
			if squeeze(t) != squeeze(r.Value) {
				return "the id is not the current policy's: senders keep the policy they have; publish this one"
			}
			return ""
		})
	case tenants.DNSMTASTSHost:
		if len(published) == 0 {
			return "missing", "no CNAME: senders can't fetch the policy here (an A record works too if it is this server)"
		}
		if want := strings.TrimSuffix(r.Value, "."); !strings.EqualFold(published[0], want) {
			return "wrong", "the name points to " + published[0] + ", not " + want
		}
		return "ok", ""
	case tenants.DNSTLSRPT:
		return judgeOne(published, "v=TLSRPTv1", "TLS-RPT record", func(t string) string {
			if !strings.Contains(t, "rua=") {
				return "the record names no rua address"
			}
			return ""
		})
	}
	return "unknown", ""
}

// judgeOne judges a TXT record of which there must be one starting with
// prefix; problem says what is wrong with it, "" nothing.
func judgeOne(published []string, prefix, what string, problem func(string) string) (string, string) {
	var recs []string
	for _, t := range published {
		if strings.HasPrefix(t, prefix) {
			recs = append(recs, t)
		}
	}
	switch {
	case len(recs) == 0:
		return "missing", "no " + what
	case len(recs) > 1:
		return "wrong", "more than one " + what + ": senders ignore them all"
	}
	if p := problem(recs[0]); p != "" {
		return "wrong", p
	}
	return "ok", ""
}

// CheckDNS is DNSCheck through the Checker's resolver, for the panel's DNS
// page (panel/request.DNSChecker).
func (c *Checker) CheckDNS(ctx context.Context, recs []tenants.DNSRecord) []tenants.DNSStatus {
	return DNSCheck(ctx, c.res, recs)
}
