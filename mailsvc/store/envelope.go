package store

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// envelope is go-imap's envelope of a header, with address lists that keep
// RFC 5322 groups: IMAP's ENVELOPE marks a group with an address whose host
// is NIL and whose mailbox is the group's name, and its end with an
// all-NIL address (RFC 9051 7.5.2). go-imap's ExtractEnvelope drops the
// groups (its parser flattens them, as net/mail does), so the address
// fields are parsed here; no maintained Go library parses groups. The same
// parse reads the lists net/mail rejects whole: obsolete source routes and
// comments inside an address (imaptest's fetch-envelope and
// search-addresses messages).
func envelope(h textproto.Header) *imap.Envelope {
	env := imapserver.ExtractEnvelope(h)
	for _, f := range []struct {
		key string
		dst *[]imap.Address
	}{{"From", &env.From}, {"Sender", &env.Sender}, {"Reply-To", &env.ReplyTo},
		{"To", &env.To}, {"Cc", &env.Cc}, {"Bcc", &env.Bcc}} {
		raw := h.Get(f.key)
		if !strings.Contains(raw, ":") && (len(*f.dst) > 0 || strings.TrimSpace(raw) == "") {
			continue // no group, and go-imap could read it
		}
		if l, ok := groupedAddresses(raw); ok {
			*f.dst = l
		}
	}
	return env
}

// AddressList reads the value of one address field (From, To, Cc, ...) as
// ENVELOPE does, groups, comments and source routes included, names
// decoded. SEARCH FROM, TO, CC and BCC match against it (RFC 9051 6.4.4:
// "the envelope structure's FROM field").
func AddressList(value string) []imap.Address {
	// A one-field header through envelope keeps the two readings from
	// drifting apart.
	var h textproto.Header
	h.Set("From", value)
	return envelope(h).From
}

// groupedAddresses parses an address list with groups, or one go-imap
// could not read at all, one address at a time, so that one it can't read
// (an address literal, say) doesn't lose the others as go-imap's
// whole-list parse does. It reports false when it found nothing, so the
// caller keeps go-imap's list.
func groupedAddresses(raw string) ([]imap.Address, bool) {
	var out []imap.Address
	sawGroup := false
	inGroup := false
	for _, tok := range splitAddressList(raw) {
		switch tok.kind {
		case tokGroupStart:
			sawGroup, inGroup = true, true
			name := strings.TrimSpace(tok.text)
			out = append(out, imap.Address{Mailbox: decodeWords(strings.Trim(name, `"`))})
		case tokGroupEnd:
			if inGroup {
				out = append(out, imap.Address{})
				inGroup = false
			}
		case tokAddress:
			a, err := mail.ParseAddress(tok.text)
			if err != nil {
				// An obsolete source route ("<@route:user@domain>",
				// RFC 5322 4.4) net/mail cannot read; IMAP's address
				// has a place for it, but go-imap writes it as NIL,
				// so it is dropped.
				if noRoute, ok := dropRoute(tok.text); ok {
					a, err = mail.ParseAddress(noRoute)
				}
			}
			if err != nil {
				// Comments inside an addr-spec ("<user (c)@ (c)
				// domain.org>", RFC 5322 3.4.1 CFWS) net/mail
				// cannot read either.
				if bare := dropComments(tok.text); bare != tok.text {
					a, err = mail.ParseAddress(bare)
				}
				if err != nil {
					continue
				}
			}
			mailbox, host, ok := strings.Cut(a.Address, "@")
			if !ok {
				continue
			}
			out = append(out, imap.Address{Name: a.Name, Mailbox: mailbox, Host: host})
		}
	}
	if inGroup {
		out = append(out, imap.Address{})
	}
	return out, sawGroup || len(out) > 0
}

// dropRoute removes the source route of an angle address: "Name
// <@a.example,@b.example:user@domain>" becomes "Name <user@domain>".
func dropRoute(s string) (string, bool) {
	open := strings.IndexByte(s, '<')
	if open < 0 || !strings.HasPrefix(strings.TrimLeft(s[open+1:], " \t"), "@") {
		return "", false
	}
	colon := strings.IndexByte(s[open:], ':')
	if colon < 0 || strings.IndexByte(s[open:open+colon], '>') >= 0 {
		return "", false
	}
	return s[:open+1] + s[open+colon+1:], true
}

// dropComments removes the comments of an address outside quoted strings
// and the white space they leave in its addr-spec: "<user (c)@ (c)
// domain.org>" becomes "<user@domain.org>".
func dropComments(s string) string {
	var b strings.Builder
	depth, quoted, escaped := 0, false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			quoted = r != '"'
		case r == '(':
			depth++
			continue
		case r == ')' && depth > 0:
			depth--
			continue
		case r == '"' && depth == 0:
			quoted = true
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	out := strings.TrimSpace(b.String())
	if strings.Contains(out, `"`) {
		return out // a quoted part: leave its spaces alone
	}
	name, spec := "", out
	if i := strings.IndexByte(out, '<'); i >= 0 {
		name, spec = out[:i], out[i:]
	}
	return name + strings.Join(strings.Fields(spec), "")
}

type tokKind int

const (
	tokAddress tokKind = iota
	tokGroupStart
	tokGroupEnd
)

type addrTok struct {
	kind tokKind
	text string
}

// splitAddressList splits a header value at the commas, group colons and
// semicolons that stand outside quoted strings, comments, angle brackets
// and domain literals. Bounded by the header's length: one pass, no backtracking.
func splitAddressList(s string) []addrTok {
	var toks []addrTok
	var cur strings.Builder
	depth, quoted, angle, literal, escaped := 0, false, false, false, false
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			toks = append(toks, addrTok{kind: tokAddress, text: t})
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			if r == '"' {
				quoted = false
			}
		case depth > 0:
			if r == '(' {
				depth++
			} else if r == ')' {
				depth--
			}
		case r == '"':
			quoted = true
		case r == '(':
			depth++
		case literal:
			if r == ']' {
				literal = false
			}
		case r == '[':
			literal = true
		case angle:
			if r == '>' {
				angle = false
			}
		case r == '<':
			angle = true
		case r == ':':
			toks = append(toks, addrTok{kind: tokGroupStart, text: cur.String()})
			cur.Reset()
			continue
		case r == ';':
			flush()
			toks = append(toks, addrTok{kind: tokGroupEnd})
			continue
		case r == ',':
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return toks
}

// decodeWords decodes RFC 2047 encoded words in a group name.
func decodeWords(s string) string {
	h := gomessage.Header{}
	h.Set("X", s)
	if d, err := h.Text("X"); err == nil {
		return d
	}
	return s
}
