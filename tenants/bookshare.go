package tenants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// A user's own address books: more than "Contacts", and shared with named
// users of the same domain (read-only or read-write) or with the whole
// domain read-only. Sharing never crosses domains.

// MaxOwnBooks bounds the books one user makes.
const MaxOwnBooks = 50

// BookShare is one user a book is shared with.
type BookShare struct {
	Address  string
	MayWrite bool
}

// ownBook is one of the user's own books, by slug; ErrNotFound for any
// other (a book shared with them included: only its owner shares it).
func (s *Service) ownBook(tx *gorm.DB, l *Login, slug string) (*addressBookRow, error) {
	if err := contactLogin(l); err != nil {
		return nil, err
	}
	var b addressBookRow
	err := tx.Where("domain_id = ? AND owner_mailbox_id = ? AND slug = ?", l.Mailbox.DomainID, l.Mailbox.ID, slug).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up address book: %w", err)
	}
	return &b, nil
}

// ensureOwn makes the "Contacts" book before a change of its settings.
func (s *Service) ensureOwn(ctx context.Context, l *Login, slug string) error {
	if err := contactLogin(l); err != nil {
		return err
	}
	if slug != defaultBookSlug {
		return nil
	}
	return s.ensureBooks(ctx, l)
}

// CreateBook makes a new book of the user's.
func (s *Service) CreateBook(ctx context.Context, l *Login, name string) (*ContactBook, error) {
	if err := contactLogin(l); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, invalid("name", "give the address book a name")
	}
	if err := checkText("name", name, 100); err != nil {
		return nil, err
	}
	var rb [6]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return nil, fmt.Errorf("make a book name: %w", err)
	}
	row := addressBookRow{DomainID: l.Mailbox.DomainID, OwnerMailboxID: &l.Mailbox.ID, Slug: "b" + hex.EncodeToString(rb[:]),
		Name: name, CreatedAt: s.clock()}
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&addressBookRow{}).Where("owner_mailbox_id = ?", l.Mailbox.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count address books: %w", err)
		}
		if n >= MaxOwnBooks {
			return invalid("name", "at most %d address books", MaxOwnBooks)
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("make address book: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ContactBook{Slug: row.Slug, Name: row.Name, Kind: BookPersonal, Writable: true, id: row.ID, domainID: row.DomainID}, nil
}

// DeleteBook removes one of the user's books with its contacts; the
// "Contacts" book stays.
func (s *Service) DeleteBook(ctx context.Context, l *Login, slug string) error {
	if slug == defaultBookSlug {
		return invalid("book", "the Contacts book stays; delete its contacts instead")
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		b, err := s.ownBook(tx, l, slug)
		if err != nil {
			return err
		}
		if err := tx.Delete(&addressBookRow{}, b.ID).Error; err != nil {
			return fmt.Errorf("delete address book: %w", err)
		}
		return nil
	})
}

// ShareBook shares one of the user's books with another user of the same
// domain (by any of their addresses), read-only or read-write; sharing
// again changes the right.
func (s *Service) ShareBook(ctx context.Context, l *Login, slug string, with address.Address, mayWrite bool) error {
	if err := s.ensureOwn(ctx, l, slug); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		b, err := s.ownBook(tx, l, slug)
		if err != nil {
			return err
		}
		var d Domain
		if err := tx.Take(&d, l.Mailbox.DomainID).Error; err != nil {
			return fmt.Errorf("look up domain: %w", err)
		}
		if with.Domain.String() != d.Name {
			return invalid("address", "share only with users of %s", d.Name)
		}
		var a addressRow
		err = tx.Where("domain_id = ? AND local_part = ?", d.ID, string(with.Local)).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return invalid("address", "%s is no user of %s", with, d.Name)
		}
		if err != nil {
			return fmt.Errorf("look up address: %w", err)
		}
		if a.MailboxID == l.Mailbox.ID {
			return invalid("address", "the book is yours already")
		}
		if err := tx.Exec("DELETE FROM address_book_shares WHERE book_id = ? AND mailbox_id = ?", b.ID, a.MailboxID).Error; err != nil {
			return fmt.Errorf("share address book: %w", err)
		}
		if err := tx.Exec("INSERT INTO address_book_shares (book_id, mailbox_id, may_write) VALUES (?, ?, ?)", b.ID, a.MailboxID, mayWrite).Error; err != nil {
			return fmt.Errorf("share address book: %w", err)
		}
		return nil
	})
}

// UnshareBook ends a share of one of the user's books.
func (s *Service) UnshareBook(ctx context.Context, l *Login, slug string, with address.Address) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		b, err := s.ownBook(tx, l, slug)
		if err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM address_book_shares WHERE book_id = ? AND mailbox_id IN
			(SELECT mailbox_id FROM addresses WHERE domain_id = ? AND local_part = ?)`, b.ID, l.Mailbox.DomainID, string(with.Local))
		if res.Error != nil {
			return fmt.Errorf("unshare address book: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// SetBookDomainRead shares one of the user's books read-only with the
// whole domain, or stops doing so.
func (s *Service) SetBookDomainRead(ctx context.Context, l *Login, slug string, on bool) error {
	if err := s.ensureOwn(ctx, l, slug); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		b, err := s.ownBook(tx, l, slug)
		if err != nil {
			return err
		}
		return tx.Model(&addressBookRow{}).Where("id = ?", b.ID).Update("domain_read", on).Error
	})
}

// BookShares lists whom one of the user's books is shared with, and
// whether the whole domain reads it.
func (s *Service) BookShares(ctx context.Context, l *Login, slug string) ([]BookShare, bool, error) {
	b, err := s.ownBook(s.db.Read(ctx), l, slug)
	if err != nil {
		return nil, false, err
	}
	var out []BookShare
	err = s.db.Read(ctx).Table("address_book_shares").
		Select("mailboxes.local_part || '@' || domains.name AS address, address_book_shares.may_write").
		Joins("JOIN mailboxes ON mailboxes.id = address_book_shares.mailbox_id").
		Joins("JOIN domains ON domains.id = mailboxes.domain_id").
		Where("address_book_shares.book_id = ?", b.ID).Order("address").Scan(&out).Error
	if err != nil {
		return nil, false, fmt.Errorf("list shares: %w", err)
	}
	return out, b.DomainRead, nil
}
