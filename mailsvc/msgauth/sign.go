// Package msgauth signs outgoing mail with DKIM (RFC 6376, RFC 8463) and
// checks incoming mail's SPF (RFC 7208), DKIM and DMARC (RFC 7489), all
// with github.com/emersion/go-msgauth and every lookup through the one
// resolver (mailsvc/dnsres); the verdicts become Postdesk's own
// Authentication-Results field (RFC 8601).
package msgauth

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// signedFields are the header fields a signature covers, when present; From
// is named twice so that a second From added on the way breaks the
// signature (RFC 6376 5.4.2, "oversigning"), and the fields a list or a
// forwarder legitimately adds (Received, List-*) are left out.
var signedFields = []string{
	"From", "From", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "To", "Cc",
	"In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-Disposition", "Resent-From", "Resent-Date", "Resent-Message-ID", "Resent-To", "Resent-Cc",
}

// Keys gives a domain's active DKIM keys: *tenants.Service.
type Keys interface {
	DKIMSigners(ctx context.Context, domain address.Domain) ([]tenants.DKIMSigner, error)
}

// Signer signs messages with the DKIM keys of hosted domains.
type Signer struct {
	keys Keys
}

// NewSigner returns a Signer over keys.
func NewSigner(keys Keys) *Signer { return &Signer{keys: keys} }

// Sign reads the message in r and returns the DKIM-Signature fields of each
// of domain's active keys (Ed25519 and RSA), each ending in CRLF, to put on
// top of it; "" when the domain has no keys. relaxed/relaxed
// canonicalization (RFC 6376 3.4.2, 3.4.4) survives the re-folding and
// trailing-space changes of relays; no l= tag, so nothing can be appended
// to the body.
func (s *Signer) Sign(ctx context.Context, domain address.Domain, r io.Reader) (string, error) {
	if s == nil || domain == "" {
		return "", nil
	}
	keys, err := s.keys.DKIMSigners(ctx, domain)
	if err != nil || len(keys) == 0 {
		return "", err
	}
	signers := make([]*dkim.Signer, len(keys))
	ws := make([]io.Writer, len(keys))
	for i, k := range keys {
		signers[i], err = dkim.NewSigner(&dkim.SignOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Key,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: signedFields})
		if err != nil {
			for _, done := range signers[:i] {
				done.Close()
			}
			return "", fmt.Errorf("DKIM key %s of %s: %w", k.Selector, domain, err)
		}
		ws[i] = signers[i]
	}
	_, err = io.Copy(io.MultiWriter(ws...), r)
	var out strings.Builder
	for i, sg := range signers {
		if cerr := sg.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("DKIM-sign with %s: %w", keys[i].Selector, cerr)
		}
		if err == nil {
			out.WriteString(sg.Signature())
		}
	}
	if err != nil {
		return "", fmt.Errorf("DKIM-sign for %s: %w", domain, err)
	}
	return out.String(), nil
}
