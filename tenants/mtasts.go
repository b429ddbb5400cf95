package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Modes of a hosted domain's own MTA-STS policy (RFC 8461 3.2): none
// serves no policy and asks for no records; testing asks senders to report
// failures (TLS-RPT) but deliver anyway; enforce asks them to deliver only
// over verified TLS to the MX host.
const (
	MTASTSNone    = "none"
	MTASTSTesting = "testing"
	MTASTSEnforce = "enforce"
)

// MailHost is the host a domain's MX record names: host (the configured
// public or MX host name) or, when none is configured, mail.DOMAIN.
func MailHost(d address.Domain, host string) string {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "mail." + d.String()
	}
	return host
}

// ParseMTASTSMode checks a mode as given by a form, the CLI or the API.
func ParseMTASTSMode(s string) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case MTASTSNone, MTASTSTesting, MTASTSEnforce:
		return m, nil
	}
	return "", invalid("mta_sts", "give none, testing or enforce")
}

// SetMTASTSMode sets the mode of the domain's own MTA-STS policy; the
// domain's postmasters and administrators may.
func (s *Service) SetMTASTSMode(ctx context.Context, sc Scope, name address.Domain, mode string) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	mode, err := ParseMTASTSMode(mode)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, name)
		if err != nil {
			return err
		}
		if err := tx.Model(d).Updates(map[string]any{"mta_sts_mode": mode, "updated_at": s.clock()}).Error; err != nil {
			return fmt.Errorf("set the MTA-STS mode of %s: %w", d.Name, err)
		}
		return s.audit(tx, sc, &d.ID, "domain.mta_sts", "%s: %s", d.Name, mode)
	})
}

// mtastsPolicy is the policy file of a domain in mode (not none) whose MX
// is mailHost (RFC 8461 3.2): a week's max_age when enforced, a day's when
// testing, so that a test is ended quickly.
func mtastsPolicy(mode, mailHost string) string {
	maxAge := 604800
	if mode == MTASTSTesting {
		maxAge = 86400
	}
	return fmt.Sprintf("version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %d\r\n", mode, strings.TrimSuffix(mailHost, "."), maxAge)
}

// mtastsID is the id the _mta-sts TXT record gives for a policy (RFC 8461
// 3.1): taken from the policy's text, so that it changes whenever the
// policy does and senders fetch the new one.
func mtastsID(policy string) string {
	h := sha256.Sum256([]byte(policy))
	return hex.EncodeToString(h[:10])
}

// MTASTSPolicy is the policy file served at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt for a hosted, active
// domain whose mode is not none; ErrNotFound otherwise. It answers
// strangers (system scope), saying nothing of other domains. mailHost is
// as for ExpectedDNS.
func (s *Service) MTASTSPolicy(ctx context.Context, name address.Domain, mailHost string) (string, error) {
	ok, err := s.ServesDomain(ctx, name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("MTA-STS policy of %s: %w", name, ErrNotFound)
	}
	d, err := s.domainTx(s.db.Read(ctx), SystemScope(""), name)
	if err != nil {
		return "", err
	}
	if d.MTASTSMode == "" || d.MTASTSMode == MTASTSNone {
		return "", fmt.Errorf("MTA-STS policy of %s: %w", name, ErrNotFound)
	}
	return mtastsPolicy(d.MTASTSMode, MailHost(name, mailHost)), nil
}
