package msgauth

import (
	"strings"
)

// AuthResults is the Authentication-Results field (RFC 8601 2.2) of a
// verdict under authserv-id id, ending in CRLF: always a dkim, spf and
// dmarc result ("none" where nothing applies). extra results (RFC 8601
// resinfo, e.g. the hosted-sender mark "auth=none ...") go after them.
func (v Verdict) AuthResults(id string, extra ...string) string {
	var rs []string
	if len(v.DKIM) == 0 {
		rs = append(rs, "dkim=none")
	}
	for _, d := range v.DKIM {
		r := "dkim=" + d.Result
		if d.Reason != "" && d.Result != Pass {
			r += " reason=" + quote(d.Reason)
		}
		if d.Domain != "" {
			r += " header.d=" + pvalue(d.Domain)
		}
		if d.Selector != "" {
			r += " header.s=" + pvalue(d.Selector)
		}
		if d.Algorithm != "" {
			r += " header.a=" + pvalue(d.Algorithm)
		}
		if d.Sig != "" {
			r += " header.b=" + pvalue(d.Sig)
		}
		rs = append(rs, r)
	}
	spf := "spf=" + v.SPF
	if v.SPFHELO {
		spf += " smtp.helo=" + pvalue(v.SPFDomain)
	} else {
		spf += " smtp.mailfrom=" + pvalue(v.MailFrom)
	}
	rs = append(rs, spf)
	dm := "dmarc=" + v.DMARC
	if v.DMARC == Fail {
		dm += " (p=" + v.Policy + ")"
	}
	if v.FromDom != "" {
		dm += " header.from=" + pvalue(v.FromDom)
	}
	rs = append(rs, dm)
	rs = append(rs, extra...)
	return "Authentication-Results: " + id + ";\r\n\t" + strings.Join(rs, ";\r\n\t") + "\r\n"
}

// pvalue writes a property value (RFC 8601 2.2): as it is when it is an
// RFC 2045 token or an address, else as a quoted string.
func pvalue(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>,;:\"/[]?=`, r) {
			return quote(s)
		}
	}
	return s
}

// quote makes s an RFC 5322 quoted-string, control characters dropped.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r < ' ' || r == 0x7f:
			continue
		case r == '"' || r == '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
