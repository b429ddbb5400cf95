package tenants

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Trusted forwarders: a domain names the client networks of forwarders it
// takes mail from (a university's alias service, a mailing list host).
// Such a forwarder often changes what it passes on and so breaks the
// author's DKIM signature and SPF; RFC 7489 6.7 lets a receiver's local
// policy override the author domain's p=reject for them. Their failing mail
// is filed into Junk instead of refused.

// maxDMARCForwarders bounds a domain's list: each network is compared with
// the client address of every message received for the domain.
const maxDMARCForwarders = 100

// DMARCForwarder is one trusted network of a domain.
type DMARCForwarder struct {
	ID        int64
	DomainID  int64
	Network   string // netip.Prefix, masked
	CreatedAt time.Time
}

// TableName is the forwarder table.
func (DMARCForwarder) TableName() string { return "dmarc_forwarders" }

// ParseForwarders reads a list of networks (CIDR) or addresses, separated
// by commas or white space, masked; one wider than a /16 (IPv4) or a /32
// (IPv6) is refused, as it would lift the authors' policies for a large
// part of the Internet.
func ParseForwarders(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		var p netip.Prefix
		var err error
		if strings.Contains(f, "/") {
			p, err = netip.ParsePrefix(f)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(f); err == nil {
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
		}
		if err != nil {
			return nil, invalid("networks", "%q is not an IP address or network (CIDR)", f)
		}
		p = p.Masked()
		if (p.Addr().Is4() && p.Bits() < 16) || (p.Addr().Is6() && p.Bits() < 32) {
			return nil, invalid("networks", "%s is too wide: at most a /16 (IPv4) or a /32 (IPv6)", p)
		}
		out = append(out, p)
	}
	if len(out) > maxDMARCForwarders {
		return nil, invalid("networks", "at most %d networks", maxDMARCForwarders)
	}
	return out, nil
}

// SetDMARCForwarders replaces a domain's trusted forwarder networks.
func (s *Service) SetDMARCForwarders(ctx context.Context, sc Scope, name address.Domain, nets []netip.Prefix) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	if len(nets) > maxDMARCForwarders {
		return invalid("networks", "at most %d networks", maxDMARCForwarders)
	}
	now := s.clock()
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, name)
		if err != nil {
			return err
		}
		if err := tx.Where("domain_id = ?", d.ID).Delete(&DMARCForwarder{}).Error; err != nil {
			return fmt.Errorf("clear trusted forwarders of %s: %w", d.Name, err)
		}
		seen := map[netip.Prefix]bool{}
		var list []string
		for _, p := range nets {
			p = p.Masked()
			if seen[p] {
				continue
			}
			seen[p] = true
			if err := tx.Create(&DMARCForwarder{DomainID: d.ID, Network: p.String(), CreatedAt: now}).Error; err != nil {
				return fmt.Errorf("add trusted forwarder %s of %s: %w", p, d.Name, err)
			}
			list = append(list, p.String())
		}
		return s.audit(tx, sc, &d.ID, "dmarc.forwarders", "%s: %s", d.Name, strings.Join(list, ", "))
	})
}

// DMARCForwarders lists a domain's trusted forwarder networks.
func (s *Service) DMARCForwarders(ctx context.Context, sc Scope, name address.Domain) ([]netip.Prefix, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	db := s.db.Read(ctx)
	d, err := s.domainTx(db, sc, name)
	if err != nil {
		return nil, err
	}
	var nets []string
	if err := db.Model(&DMARCForwarder{}).Where("domain_id = ?", d.ID).Order("network").Pluck("network", &nets).Error; err != nil {
		return nil, fmt.Errorf("read trusted forwarders of %s: %w", d.Name, err)
	}
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// TrustsForwarder reports whether any of the domains trusts a forwarder
// at ip, for the MX's DMARC policy action.
func (s *Service) TrustsForwarder(ctx context.Context, domainIDs []int64, ip netip.Addr) (bool, error) {
	if len(domainIDs) == 0 || !ip.IsValid() {
		return false, nil
	}
	var nets []string
	if err := s.db.Read(ctx).Model(&DMARCForwarder{}).Where("domain_id IN ?", domainIDs).Pluck("network", &nets).Error; err != nil {
		return false, fmt.Errorf("read trusted forwarders: %w", err)
	}
	ip = ip.Unmap()
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n); err == nil && p.Contains(ip) {
			return true, nil
		}
	}
	return false, nil
}
