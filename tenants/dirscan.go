package tenants

import (
	"context"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/database"
)

// scanPage is how many rows DirectoryScan reads at a time.
const scanPage = 500

// MaxScanTerms bounds the terms of one DirectoryScan; a caller with more
// scans everything (nil terms).
const MaxScanTerms = 8

// DirectoryScan hands the local directory (people) and the GAB (gab) of
// the user's domain to fn, a page at a time, until fn returns false or
// ctx ends: the directory first, by local part, then the GAB contacts.
// With terms, only the entries whose name or an address (and for GAB
// contacts phones, organisation, title, UID) holds one of them (case
// folded) are read; nil terms reads all. It is for searches that match
// each entry themselves (LDAP): terms only narrow what is read.
func (s *Service) DirectoryScan(ctx context.Context, l *Login, people, gab bool, terms []string, fn func(p *DirectoryPerson, c *Contact) bool) error {
	if err := contactLogin(l); err != nil {
		return err
	}
	if len(terms) > MaxScanTerms {
		terms = nil
	}
	for i, t := range terms {
		terms[i] = strings.ToLower(t)
	}
	if people {
		after := ""
		for {
			var sc dirScanned
			ps, err := s.directoryPage(ctx, l.Mailbox.DomainID, dirQuery{terms: terms, after: after, limit: scanPage, scanned: &sc})
			if err != nil {
				return err
			}
			for i := range ps {
				if !fn(&ps[i], nil) {
					return nil
				}
			}
			if sc.rows < scanPage {
				break
			}
			after = sc.last
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if !gab {
		return nil
	}
	books, err := s.ContactBooks(ctx, l)
	if err != nil {
		return err
	}
	var id int64
	for _, b := range books {
		if b.Kind == BookGAB {
			id = b.id
		}
	}
	if id == 0 {
		return nil
	}
	var after int64
	for {
		q := s.db.Read(ctx).Where("book_id = ? AND id > ?", id, after)
		if len(terms) > 0 {
			var ors []string
			var args []any
			for _, t := range terms {
				pat := database.Contains(t)
				for _, col := range []string{"LOWER(full_name)", "LOWER(family_name)", "LOWER(given_name)", "emails", "phones", "LOWER(org)", "LOWER(title)", "LOWER(uid)"} {
					ors = append(ors, col+" LIKE ? ESCAPE '\\'")
					args = append(args, pat)
				}
			}
			q = q.Where("("+strings.Join(ors, " OR ")+")", args...)
		}
		var rows []contactRow
		if err := q.Omit("vcard").Order("id").Limit(scanPage).Find(&rows).Error; err != nil {
			return fmt.Errorf("scan the global address book: %w", err)
		}
		for i := range rows {
			c := rows[i].contact()
			if !fn(nil, &c) {
				return nil
			}
		}
		if len(rows) < scanPage {
			return nil
		}
		after = rows[len(rows)-1].ID
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
