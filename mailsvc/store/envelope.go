package store

import (
	"sort"
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
			var route string
			if err != nil {
				// An obsolete source route ("<@route:user@domain>",
				// RFC 5322 4.4) net/mail cannot read; it is kept for
				// ENVELOPE's addr-adl (RFC 9051 7.5.2), as Dovecot
				// writes it.
				if noRoute, r, ok := dropRoute(tok.text); ok {
					a, err = mail.ParseAddress(noRoute)
					route = r
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
			out = append(out, imap.Address{Name: a.Name, Mailbox: mailbox, Host: host, Route: route})
		}
	}
	if inGroup {
		out = append(out, imap.Address{})
	}
	return out, sawGroup || len(out) > 0
}

// dropRoute removes the source route of an angle address and returns it:
// "Name <@a.example,@b.example:user@domain>" becomes "Name <user@domain>"
// and "@a.example,@b.example".
func dropRoute(s string) (addr, route string, ok bool) {
	open := strings.IndexByte(s, '<')
	if open < 0 || !strings.HasPrefix(strings.TrimLeft(s[open+1:], " \t"), "@") {
		return "", "", false
	}
	colon := strings.IndexByte(s[open:], ':')
	if colon < 0 || strings.IndexByte(s[open:open+colon], '>') >= 0 {
		return "", "", false
	}
	route = strings.Join(strings.Fields(s[open+1:open+colon]), "")
	return s[:open+1] + s[open+colon+1:], route, true
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

// Bounds of the header fields Index keeps in the database, so that a row
// stays small whatever a sender puts in a header (issue 11: a 46 MB To
// header became a 121 MB envelope). FETCH ENVELOPE then gives the first
// addresses of a list, as Dovecot's bounded header parsing does in spirit;
// SEARCH reads the header itself, whole.
const (
	maxEnvelopeAddresses = 100      // per address list
	maxEnvelopeText      = 32 << 10 // text of one envelope: names, addresses, subject, ids
	maxStructureText     = 256 << 10
	maxFieldText         = 1 << 10 // one subject, message id, description or parameter
	maxAddressText       = 256     // one display name, local part or domain
	maxTypeText          = 64      // a media type's type or subtype, an encoding, a language tag
	maxInReplyTo         = 10      // message ids of In-Reply-To
	maxParams            = 16      // parameters of one Content-Type or Content-Disposition
	maxLanguages         = 8       // Content-Language tags of one part
)

// textBudget hands out the bytes of text one stored value may keep.
type textBudget struct{ left int }

// take returns s cut to at most max bytes and to what is left of the
// budget, on a rune boundary, and counts what it returns.
func (b *textBudget) take(s string, max int) string {
	s = truncate(s, min(max, b.left))
	b.left -= len(s)
	return s
}

// boundEnvelope cuts an envelope to the bounds: each string, each list to
// maxEnvelopeAddresses, and all its text to what b has left. The lists are
// taken in ENVELOPE's order, so the sender survives a huge To; a list cut
// inside a group keeps the group's end.
func boundEnvelope(env *imap.Envelope, b *textBudget) *imap.Envelope {
	if env == nil {
		return nil
	}
	env.Subject = b.take(env.Subject, maxFieldText)
	env.MessageID = b.take(env.MessageID, maxFieldText)
	for _, l := range []*[]imap.Address{&env.From, &env.Sender, &env.ReplyTo, &env.To, &env.Cc, &env.Bcc} {
		*l = boundAddresses(*l, b)
	}
	var ids []string
	for _, id := range env.InReplyTo[:min(len(env.InReplyTo), maxInReplyTo)] {
		if id = b.take(id, maxFieldText); id != "" {
			ids = append(ids, id)
		}
	}
	env.InReplyTo = ids
	return env
}

func boundAddresses(list []imap.Address, b *textBudget) []imap.Address {
	var out []imap.Address
	inGroup := false
	for _, a := range list {
		if len(out) >= maxEnvelopeAddresses-1 || b.left <= 0 {
			break // one place kept for a group's end
		}
		group := a.IsGroupStart() || a.IsGroupEnd()
		c := imap.Address{Name: b.take(a.Name, maxAddressText), Mailbox: b.take(a.Mailbox, maxAddressText), Host: b.take(a.Host, maxAddressText),
			Route: b.take(a.Route, maxAddressText)}
		if !group && (c.Mailbox == "" || c.Host == "") {
			break // cut by the budget: it would read as a group marker
		}
		if a.IsGroupStart() && c.Mailbox == "" {
			break
		}
		switch {
		case a.IsGroupStart():
			inGroup = true
		case a.IsGroupEnd():
			inGroup = false
		}
		out = append(out, c)
	}
	if inGroup {
		out = append(out, imap.Address{})
	}
	return out
}

// boundParams keeps at most maxParams parameters, by name, each within
// the budget; charset and boundary, which a client needs to read the part,
// are kept outside it (RFC 2046 5.1.1 bounds a boundary to 70 characters).
func boundParams(params map[string]string, b *textBudget) map[string]string {
	if len(params) == 0 {
		return params
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, min(len(keys), maxParams))
	for _, k := range []string{"charset", "boundary"} {
		if v, ok := params[k]; ok {
			out[k] = truncate(v, maxTypeText+70)
		}
	}
	for _, k := range keys {
		if len(out) >= maxParams {
			break
		}
		if _, ok := out[k]; ok {
			continue
		}
		v := params[k]
		if k = b.take(k, maxAddressText); k == "" {
			break
		}
		out[k] = b.take(v, maxFieldText)
	}
	return out
}
