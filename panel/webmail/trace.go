package webmail

import (
	"strings"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/authres"
)

// unauthenticatedHostedSender returns the envelope sender that the SMTP
// server marked as one of our domains given by a client that had not
// authenticated (mailsvc/smtpd, data.go: an RFC 8601
// Authentication-Results field with "auth=none" and smtp.mailfrom), or "".
// Only the fields above the first Received are read: those are the ones
// Postdesk put there (its Received, and the per-recipient Return-Path and
// Delivered-To); the same field further down is the sender's own text and
// proves nothing.
func unauthenticatedHostedSender(h mail.Header) string {
	var top []string
	for f := h.Fields(); f.Next(); {
		k := strings.ToLower(f.Key())
		if k == "received" {
			break
		}
		if k == "authentication-results" {
			top = append(top, f.Value())
		}
	}
	for _, v := range top {
		resinfos := strings.Split(stripQuotedAndComments(v), ";")
		for _, ri := range resinfos[1:] {
			toks := strings.Fields(ri)
			if len(toks) == 0 || !strings.EqualFold(toks[0], "auth=none") {
				continue
			}
			for _, t := range toks[1:] {
				if k, val, ok := strings.Cut(t, "="); ok && strings.EqualFold(k, "smtp.mailfrom") && val != "" {
					return val
				}
			}
		}
	}
	return ""
}

// stripQuotedAndComments blanks out quoted strings and comments (RFC 5322
// 3.2), where a ";" or "=" is text, not syntax.
func stripQuotedAndComments(s string) string {
	b := []byte(s)
	quoted, depth := false, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case (quoted || depth > 0) && c == '\\' && i+1 < len(b):
			b[i], b[i+1] = ' ', ' '
			i++
			continue
		case depth == 0 && c == '"':
			quoted = !quoted
		case !quoted && c == '(':
			depth++
		case !quoted && c == ')' && depth > 0:
			depth--
		case !quoted && depth == 0:
			continue
		}
		b[i] = ' '
	}
	return string(b)
}

// senderCheck says in words what the server's checks found of the
// message's author (our Authentication-Results field above the first
// Received, RFC 8601, written by the MX: mailsvc/msgauth), and whether
// the author domain is verified (DMARC pass, RFC 7489); "" when the
// message carries no verdict of ours (sent from here, or stored before the
// checks).
func senderCheck(h mail.Header) (string, bool) {
	for f := h.Fields(); f.Next(); {
		k := strings.ToLower(f.Key())
		if k == "received" {
			break
		}
		if k != "authentication-results" {
			continue
		}
		_, results, err := authres.Parse(f.Value())
		if err != nil {
			continue
		}
		var dmarc *authres.DMARCResult
		var signers []string
		for _, r := range results {
			switch r := r.(type) {
			case *authres.DMARCResult:
				dmarc = r
			case *authres.DKIMResult:
				if r.Value == authres.ResultPass && r.Domain != "" {
					signers = append(signers, r.Domain)
				}
			}
		}
		if dmarc == nil {
			continue
		}
		switch dmarc.Value {
		case authres.ResultPass:
			return "Sender verified: the message comes from " + dmarc.From + " (DMARC).", true
		case authres.ResultFail:
			return "Sender not verified: the message fails " + dmarc.From + "'s DMARC check and may be forged.", false
		}
		if dmarc.Value != authres.ResultNone {
			return "Sender not verified: the author's domain could not be checked (DMARC " + string(dmarc.Value) + ").", false
		}
		if len(signers) > 0 {
			return "Signed by " + strings.Join(signers, ", ") + " (DKIM); the author's domain publishes no DMARC policy, so its address is not verified.", false
		}
		return "Sender not verified: the author's domain publishes no DMARC policy and the message carries no valid signature.", false
	}
	return "", false
}
