package delivery

import (
	"net/netip"
	"strings"
	"time"

	"github.com/postdesk/postdesk/tenants/address"
)

// Trace is what a Received field records of one hop: who handed us the
// message, over what, when, and for whom.
type Trace struct {
	// HELO is the name the client gave in EHLO or HELO; "" when there is
	// none (webmail), and the client's address literal stands in.
	HELO string
	// Remote is the client's IP address.
	Remote string
	// TLS, when set, is a comment on the connection's TLS, e.g. "using
	// TLS1.3 with cipher TLS_AES_128_GCM_SHA256".
	TLS string
	// By is our host name; Product names our software in a comment after
	// it ("Postdesk", "Postdesk webmail").
	By, Product string
	// With is the protocol: RFC 3848's ESMTP, ESMTPS, ESMTPA, ESMTPSA,
	// RFC 6531's UTF8SMTP..., or HTTP for webmail.
	With string
	ID   string
	// For is the one recipient of the message; zero when there are
	// several (naming one would reveal it to the others).
	For  address.Address
	Date time.Time
}

// Received is the Received header field (RFC 5321 4.4) of a hop, with its
// line break, for SMTP and webmail alike:
//
//	Received: from HELO ([address]) (TLS)
//		by host (Product) with PROTOCOL id ID
//		for <rcpt>; date
//
// The date is RFC 5322's (time.RFC1123Z). What a client chose (the HELO
// name) can't break out of its clause: characters that would end it, or
// the field, become '?'.
func Received(t Trace) string {
	lit := addressLiteral(t.Remote)
	from := sanitizeHELO(t.HELO)
	if from == "" {
		from = lit
	}
	var b strings.Builder
	b.WriteString("Received: from " + from + " (" + lit + ")")
	if t.TLS != "" {
		b.WriteString("\r\n\t(" + sanitizeComment(t.TLS) + ")")
	}
	b.WriteString("\r\n\tby " + t.By + " (" + sanitizeComment(t.Product) + ") with " + t.With + " id " + t.ID)
	if !t.For.IsZero() {
		b.WriteString("\r\n\tfor <" + t.For.String() + ">")
	}
	b.WriteString("; " + t.Date.Format(time.RFC1123Z) + "\r\n")
	return b.String()
}

// addressLiteral is an IP address as RFC 5321 4.1.3 writes it: "[IPv4]"
// or "[IPv6:...]"; what does not parse as an address is cleaned instead.
func addressLiteral(ip string) string {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return "[" + strings.Map(func(r rune) rune {
			if strings.ContainsRune("0123456789abcdefABCDEF.:", r) {
				return r
			}
			return '?'
		}, ip) + "]"
	case a.Is4() || a.Is4In6():
		return "[" + a.Unmap().String() + "]"
	}
	return "[IPv6:" + a.WithZone("").String() + "]"
}

// sanitizeHELO keeps a client's name to one word of at most 255 bytes
// that can't end the field or its clause.
func sanitizeHELO(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r >= 0x7f || r == '(' || r == ')' || r == ';' {
			return '?'
		}
		return r
	}, s)
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}

// sanitizeComment keeps a comment's text on its line and inside its
// parentheses.
func sanitizeComment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '(' || r == ')' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
