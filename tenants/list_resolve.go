package tenants

import (
	"context"
	"fmt"

	"github.com/postdesk/postdesk/tenants/address"
)

// resolveChunk bounds the addresses of one IN list (SQLite takes 32766
// parameters a statement).
const resolveChunk = 1000

// ListMemberTargets resolves a list's members for a post in a few queries
// rather than one ResolveRecipient each: hosted says which of their
// domains are hosted here, and targets gives, by address (as
// address.String writes it), the mailbox that a member's address (a
// mailbox's own or an alias) of an active primary domain delivers to, when
// that mailbox takes mail. A hosted member with no entry in targets (an
// alias domain's, a subaddress, a catchrest, a disabled mailbox) is left to
// ResolveRecipient, the one rule for everything else.
func (s *Service) ListMemberTargets(ctx context.Context, members []address.Address) (hosted map[address.Domain]bool, targets map[string]Target, err error) {
	db := s.db.Read(ctx)
	byDomain := map[address.Domain][]string{}
	for _, a := range members {
		byDomain[a.Domain] = append(byDomain[a.Domain], string(a.Local))
	}
	names := make([]string, 0, len(byDomain))
	for d := range byDomain {
		names = append(names, d.String())
	}
	hosted = map[address.Domain]bool{}
	targets = map[string]Target{}
	var domains []Domain
	for i := 0; i < len(names); i += resolveChunk {
		var ds []Domain
		if err := db.Where("name IN ?", names[i:min(i+resolveChunk, len(names))]).Find(&ds).Error; err != nil {
			return nil, nil, fmt.Errorf("look up member domains: %w", err)
		}
		domains = append(domains, ds...)
	}
	now := s.clock()
	for i := range domains {
		d := &domains[i]
		dom := address.Domain(d.Name)
		hosted[dom] = true
		if !d.Active || d.AliasOfID != nil {
			continue
		}
		locals := byDomain[dom]
		for j := 0; j < len(locals); j += resolveChunk {
			var rows []struct {
				MemberLocal string
				Mailbox
			}
			err := db.Table("addresses").
				Select("addresses.local_part AS member_local, mailboxes.*").
				Joins("JOIN mailboxes ON mailboxes.id = addresses.mailbox_id").
				Where("addresses.domain_id = ? AND addresses.local_part IN ?", d.ID, locals[j:min(j+resolveChunk, len(locals))]).
				Find(&rows).Error
			if err != nil {
				return nil, nil, fmt.Errorf("look up members at %s: %w", d.Name, err)
			}
			for _, r := range rows {
				m := r.Mailbox
				if !m.Active || m.Expired(now) || m.DomainID != d.ID {
					continue
				}
				a := address.Address{Local: address.Localpart(r.MemberLocal), Domain: dom}
				targets[a.String()] = Target{MailboxID: m.ID, DomainID: d.ID,
					Address:    address.Address{Local: address.Localpart(m.LocalPart), Domain: dom},
					QuotaBytes: EffectiveQuota(&m, d)}
			}
		}
	}
	return hosted, targets, nil
}
