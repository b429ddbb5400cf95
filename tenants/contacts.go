package tenants

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
)

// The contact lists of a domain (issue 14): the local directory, derived
// from the mailboxes and their aliases on every read; the domain's global
// address book (GAB); each user's personal address books. Every entry
// point takes the *Login of the user acting, and reaches only that user's
// domain and the books that user may read.

// BookKind says what an address book is.
type BookKind string

const (
	BookPersonal  BookKind = "personal"  // the user's own
	BookShared    BookKind = "shared"    // another user's, shared with this one
	BookGAB       BookKind = "gab"       // the domain's global address book
	BookDirectory BookKind = "directory" // the domain's local directory
)

// Limits of the contact store.
const (
	// MaxVCardBytes bounds one stored vCard: a photo of 256 KB in base64
	// and the rest of the card.
	MaxVCardBytes = 400 << 10
	// MaxSyncResults bounds one sync-collection answer; a client asks
	// again with the token it got (RFC 6578 3.6).
	MaxSyncResults = 1000
	// MaxBookContacts bounds one listing of a book.
	MaxBookContacts = 100000
	maxHrefLen      = 255
	defaultBookSlug = "contacts"
	gabSlug         = "gab"
	directorySlug   = "directory"
)

// Contact errors; boundaries map them onto their wire.
var (
	// ErrPrecondition: an If-Match or If-None-Match condition failed.
	ErrPrecondition = errors.New("the contact changed since it was read")
	// ErrSyncToken: a sync token this book never gave (or no longer can
	// answer); the client syncs afresh.
	ErrSyncToken = errors.New("unknown sync token")
	// ErrUIDConflict: another contact of the book has the same UID.
	ErrUIDConflict = errors.New("another contact of the book has this UID")
)

// ContactBook is an address book as one user reaches it.
type ContactBook struct {
	Slug     string // its name under the user's address book home
	Name     string
	Kind     BookKind
	Writable bool

	id       int64 // 0: the directory
	domainID int64
}

// Contact is one vCard of a book.
type Contact struct {
	Href      string // the resource name in its book, e.g. "uid.vcf"
	ETag      string
	VCard     string
	UpdatedAt time.Time

	UID        string
	FullName   string
	FamilyName string
	GivenName  string
	Emails     []string
	Phones     []string
	Org        string
	Title      string
}

// ContactChanges is what changed in a book since a sync token.
type ContactChanges struct {
	Token     string
	Updated   []Contact
	Deleted   []string // hrefs
	Truncated bool     // more changes follow Token
}

// DirectoryPerson is one mailbox of the local directory.
type DirectoryPerson struct {
	LocalPart string
	Address   string   // local@domain
	Aliases   []string // the aliases shown in the directory
	Name      string   // the full name, else the address
	Given     string
	Family    string // the name's last word, else the local part
}

type addressBookRow struct {
	ID             int64
	DomainID       int64
	OwnerMailboxID *int64
	Slug           string
	Name           string
	DomainRead     bool
	SyncSeq        int64
	CreatedAt      time.Time
}

func (addressBookRow) TableName() string { return "address_books" }

type contactRow struct {
	ID         int64
	BookID     int64
	Href       string
	UID        string `gorm:"column:uid"`
	ETag       string `gorm:"column:etag"`
	VCard      string `gorm:"column:vcard"`
	FullName   string
	FamilyName string
	GivenName  string
	Emails     string
	Phones     string
	Org        string
	Title      string
	Seq        int64
	UpdatedAt  time.Time
}

func (contactRow) TableName() string { return "contacts" }

type contactTombstone struct {
	BookID int64
	Href   string
	Seq    int64
}

func (contactTombstone) TableName() string { return "contact_tombstones" }

func contactLogin(l *Login) error {
	if l == nil || l.Mailbox == nil || l.Domain == nil {
		return ErrForbidden
	}
	return nil
}

// mayEditGAB is the one rule for who writes a domain's global address
// book: its postmasters and the mailboxes given the permission (system
// administrators act through the panel with their own scope).
func mayEditGAB(m *Mailbox) bool { return m.Postmaster || m.MayEditGAB }

// ensureBooks makes the user's "Contacts" book and the domain's GAB when
// they do not exist yet; concurrent callers may race, the unique index
// keeps one.
func (s *Service) ensureBooks(ctx context.Context, l *Login) error {
	var n int64
	err := s.db.Read(ctx).Model(&addressBookRow{}).
		Where("domain_id = ? AND ((owner_mailbox_id = ? AND slug = ?) OR (owner_mailbox_id IS NULL AND slug = ?))",
			l.Mailbox.DomainID, l.Mailbox.ID, defaultBookSlug, gabSlug).Count(&n).Error
	if err != nil {
		return fmt.Errorf("look up address books: %w", err)
	}
	if n == 2 {
		return nil
	}
	now := s.clock()
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		ins := "INSERT INTO address_books (domain_id, owner_mailbox_id, slug, name, domain_read, sync_seq, created_at) VALUES (?, ?, ?, ?, FALSE, 0, ?) ON CONFLICT DO NOTHING"
		if err := tx.Exec(ins, l.Mailbox.DomainID, l.Mailbox.ID, defaultBookSlug, "Contacts", now).Error; err != nil {
			return fmt.Errorf("make the Contacts book: %w", err)
		}
		if err := tx.Exec(ins, l.Mailbox.DomainID, nil, gabSlug, "Global address book", now).Error; err != nil {
			return fmt.Errorf("make the global address book: %w", err)
		}
		return nil
	})
}

// ContactBooks lists the books the user reaches: their own, those shared
// with them (by name or with the whole domain), the domain's GAB and its
// directory, in that order. It only reads: the "Contacts" book and the GAB
// are listed before they exist (empty), and made by the first write.
func (s *Service) ContactBooks(ctx context.Context, l *Login) ([]ContactBook, error) {
	if err := contactLogin(l); err != nil {
		return nil, err
	}
	var own []addressBookRow
	if err := s.db.Read(ctx).Where("domain_id = ? AND owner_mailbox_id = ?", l.Mailbox.DomainID, l.Mailbox.ID).
		Order("id").Find(&own).Error; err != nil {
		return nil, fmt.Errorf("list own address books: %w", err)
	}
	var shared []struct { // (gorm skips an embedded unexported type)
		ID       int64
		DomainID int64
		Name     string
		MayWrite bool
	}
	// Shares never cross domains: the book's domain is the user's.
	err := s.db.Read(ctx).Table("address_books").
		Select("address_books.id, address_books.domain_id, address_books.name, COALESCE(address_book_shares.may_write, FALSE) AS may_write").
		Joins("LEFT JOIN address_book_shares ON address_book_shares.book_id = address_books.id AND address_book_shares.mailbox_id = ?", l.Mailbox.ID).
		Where("address_books.domain_id = ? AND address_books.owner_mailbox_id IS NOT NULL AND address_books.owner_mailbox_id <> ?", l.Mailbox.DomainID, l.Mailbox.ID).
		Where("address_book_shares.mailbox_id IS NOT NULL OR address_books.domain_read").
		Order("address_books.id").Scan(&shared).Error
	if err != nil {
		return nil, fmt.Errorf("list shared address books: %w", err)
	}
	var gabs []addressBookRow
	if err := s.db.Read(ctx).Where("domain_id = ? AND owner_mailbox_id IS NULL AND slug = ?", l.Mailbox.DomainID, gabSlug).
		Limit(1).Find(&gabs).Error; err != nil {
		return nil, fmt.Errorf("look up the global address book: %w", err)
	}
	out := make([]ContactBook, 0, len(own)+len(shared)+3)
	if !slices.ContainsFunc(own, func(b addressBookRow) bool { return b.Slug == defaultBookSlug }) {
		out = append(out, ContactBook{Slug: defaultBookSlug, Name: "Contacts", Kind: BookPersonal, Writable: true, domainID: l.Mailbox.DomainID})
	}
	for _, b := range own {
		out = append(out, ContactBook{Slug: b.Slug, Name: b.Name, Kind: BookPersonal, Writable: true, id: b.ID, domainID: b.DomainID})
	}
	for _, b := range shared {
		out = append(out, ContactBook{Slug: "shared-" + strconv.FormatInt(b.ID, 10), Name: b.Name, Kind: BookShared,
			Writable: b.MayWrite, id: b.ID, domainID: b.DomainID})
	}
	if len(gabs) == 0 {
		gabs = append(gabs, addressBookRow{Name: "Global address book", DomainID: l.Mailbox.DomainID})
	}
	for _, gab := range gabs {
		out = append(out, ContactBook{Slug: gabSlug, Name: gab.Name, Kind: BookGAB, Writable: mayEditGAB(l.Mailbox), id: gab.ID, domainID: gab.DomainID})
	}
	out = append(out, ContactBook{Slug: directorySlug, Name: "Directory", Kind: BookDirectory, domainID: l.Mailbox.DomainID})
	return out, nil
}

// ContactBook is one of the books the user reaches, by its slug;
// ErrNotFound for any other (another user's private book included).
func (s *Service) ContactBook(ctx context.Context, l *Login, slug string) (*ContactBook, error) {
	books, err := s.ContactBooks(ctx, l)
	if err != nil {
		return nil, err
	}
	for i := range books {
		if books[i].Slug == slug {
			return &books[i], nil
		}
	}
	return nil, ErrNotFound
}

// writableBook is a book the user may write, made first when it is the
// "Contacts" book or the GAB not made yet.
func (s *Service) writableBook(ctx context.Context, l *Login, slug string) (*ContactBook, error) {
	b, err := s.ContactBook(ctx, l, slug)
	if err != nil {
		return nil, err
	}
	if !b.Writable {
		return nil, fmt.Errorf("the %s is read-only to you: %w", b.Name, ErrForbidden)
	}
	if b.id == 0 {
		if err := s.ensureBooks(ctx, l); err != nil {
			return nil, err
		}
		if b, err = s.ContactBook(ctx, l, slug); err != nil {
			return nil, err
		}
		if b.id == 0 {
			return nil, fmt.Errorf("address book %s was not made", slug)
		}
	}
	return b, nil
}

// ListContacts lists a book's contacts by href.
func (s *Service) ListContacts(ctx context.Context, l *Login, slug string) ([]Contact, error) {
	b, err := s.ContactBook(ctx, l, slug)
	if err != nil {
		return nil, err
	}
	if b.Kind == BookDirectory {
		return s.directoryContacts(ctx, l)
	}
	var rows []contactRow
	if err := s.db.Read(ctx).Where("book_id = ?", b.id).Order("href").Limit(MaxBookContacts).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	out := make([]Contact, len(rows))
	for i := range rows {
		out[i] = rows[i].contact()
	}
	return out, nil
}

// GetContact is one contact of a book.
func (s *Service) GetContact(ctx context.Context, l *Login, slug, href string) (*Contact, error) {
	b, err := s.ContactBook(ctx, l, slug)
	if err != nil {
		return nil, err
	}
	if b.Kind == BookDirectory {
		cs, err := s.directoryContacts(ctx, l)
		if err != nil {
			return nil, err
		}
		for i := range cs {
			if cs[i].Href == href {
				return &cs[i], nil
			}
		}
		return nil, ErrNotFound
	}
	var row contactRow
	err = s.db.Read(ctx).Where("book_id = ? AND href = ?", b.id, href).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up contact: %w", err)
	}
	c := row.contact()
	return &c, nil
}

// PutCondition is a write's precondition (RFC 7232, as CardDAV uses it):
// IfMatch the ETag the client read ("*": any existing contact),
// IfNoneMatch that no contact exists at the href.
type PutCondition struct {
	IfMatch     string
	IfNoneMatch bool
}

// PutContact stores a vCard at href in a book the user may write, as a
// new contact or over the one there; created says which. A failed
// condition is ErrPrecondition and changes nothing.
func (s *Service) PutContact(ctx context.Context, l *Login, slug, href string, card vcard.Card, cond PutCondition) (*Contact, bool, error) {
	b, err := s.writableBook(ctx, l, slug)
	if err != nil {
		return nil, false, err
	}
	if err := checkHref(href); err != nil {
		return nil, false, err
	}
	row, err := contactFromCard(card)
	if err != nil {
		return nil, false, err
	}
	created := false
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		created, err = s.putContactTx(tx, b.id, href, &row, cond)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	c := row.contact()
	return &c, created, nil
}

// putContactTx stores row at href in a book, checking cond; it reports
// whether the contact is new.
func (s *Service) putContactTx(tx *gorm.DB, bookID int64, href string, row *contactRow, cond PutCondition) (bool, error) {
	row.BookID, row.Href = bookID, href
	seq, err := nextSeq(tx, bookID)
	if err != nil {
		return false, err
	}
	var old contactRow
	err = tx.Where("book_id = ? AND href = ?", bookID, href).Take(&old).Error
	exists := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, fmt.Errorf("look up contact: %w", err)
	}
	if err := cond.check(exists, old.ETag); err != nil {
		return false, err
	}
	var clash int64
	if err := tx.Model(&contactRow{}).Where("book_id = ? AND uid = ? AND href <> ?", bookID, row.UID, href).Count(&clash).Error; err != nil {
		return false, fmt.Errorf("look up UID: %w", err)
	}
	if clash > 0 {
		return false, ErrUIDConflict
	}
	row.Seq, row.UpdatedAt = seq, s.clock()
	if exists {
		row.ID = old.ID
		if err := tx.Save(row).Error; err != nil {
			return false, fmt.Errorf("update contact: %w", err)
		}
	} else {
		row.ID = 0
		if err := tx.Create(row).Error; err != nil {
			return false, fmt.Errorf("add contact: %w", err)
		}
	}
	if err := tx.Where("book_id = ? AND href = ?", bookID, href).Delete(&contactTombstone{}).Error; err != nil {
		return false, fmt.Errorf("clear tombstone: %w", err)
	}
	return !exists, nil
}

// DeleteContact removes a contact from a book the user may write; ifMatch
// (when set) must be its ETag.
func (s *Service) DeleteContact(ctx context.Context, l *Login, slug, href, ifMatch string) error {
	b, err := s.writableBook(ctx, l, slug)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error { return s.deleteContactTx(tx, b.id, href, ifMatch) })
}

func (s *Service) deleteContactTx(tx *gorm.DB, bookID int64, href, ifMatch string) error {
	seq, err := nextSeq(tx, bookID)
	if err != nil {
		return err
	}
	var old contactRow
	err = tx.Where("book_id = ? AND href = ?", bookID, href).Take(&old).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("look up contact: %w", err)
	}
	if err := (PutCondition{IfMatch: ifMatch}).check(true, old.ETag); err != nil {
		return err
	}
	if err := tx.Delete(&contactRow{}, old.ID).Error; err != nil {
		return fmt.Errorf("delete contact: %w", err)
	}
	if err := tx.Where("book_id = ? AND href = ?", bookID, href).Delete(&contactTombstone{}).Error; err != nil {
		return fmt.Errorf("clear tombstone: %w", err)
	}
	if err := tx.Create(&contactTombstone{BookID: bookID, Href: href, Seq: seq}).Error; err != nil {
		return fmt.Errorf("record deletion: %w", err)
	}
	return nil
}

// SyncContacts answers RFC 6578's sync-collection: what changed in a book
// since token ("" for every member), at most limit (and MaxSyncResults)
// changes at a time, oldest first.
func (s *Service) SyncContacts(ctx context.Context, l *Login, slug, token string, limit int) (*ContactChanges, error) {
	b, err := s.ContactBook(ctx, l, slug)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxSyncResults {
		limit = MaxSyncResults
	}
	if b.Kind == BookDirectory {
		return s.syncDirectory(ctx, l, token)
	}
	var since int64
	if token != "" {
		v, ok := strings.CutPrefix(token, syncTokenPrefix)
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || n < 0 {
			return nil, ErrSyncToken
		}
		since = n
	}
	if b.id == 0 { // not made yet: empty
		if since > 0 {
			return nil, ErrSyncToken
		}
		return &ContactChanges{Token: syncTokenPrefix + "0"}, nil
	}
	var book addressBookRow
	if err := s.db.Read(ctx).Take(&book, b.id).Error; err != nil {
		return nil, fmt.Errorf("look up address book: %w", err)
	}
	if since > book.SyncSeq {
		return nil, ErrSyncToken
	}
	var rows []contactRow
	if err := s.db.Read(ctx).Where("book_id = ? AND seq > ?", b.id, since).Order("seq").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list changed contacts: %w", err)
	}
	var gone []contactTombstone
	if since > 0 {
		if err := s.db.Read(ctx).Where("book_id = ? AND seq > ?", b.id, since).Order("seq").Limit(limit + 1).Find(&gone).Error; err != nil {
			return nil, fmt.Errorf("list deleted contacts: %w", err)
		}
	}
	out := &ContactChanges{}
	last := book.SyncSeq
	i, j := 0, 0
	for n := 0; i < len(rows) || j < len(gone); n++ {
		if n == limit {
			out.Truncated = true
			break
		}
		if j >= len(gone) || (i < len(rows) && rows[i].Seq < gone[j].Seq) {
			out.Updated = append(out.Updated, rows[i].contact())
			last = rows[i].Seq
			i++
		} else {
			out.Deleted = append(out.Deleted, gone[j].Href)
			last = gone[j].Seq
			j++
		}
	}
	if !out.Truncated {
		last = book.SyncSeq
	}
	out.Token = syncTokenPrefix + strconv.FormatInt(last, 10)
	return out, nil
}

const syncTokenPrefix = "urn:x-postdesk:sync:"

// nextSeq moves a book's change count on and returns it; the UPDATE also
// serialises writers of one book on both engines.
func nextSeq(tx *gorm.DB, bookID int64) (int64, error) {
	if err := tx.Exec("UPDATE address_books SET sync_seq = sync_seq + 1 WHERE id = ?", bookID).Error; err != nil {
		return 0, fmt.Errorf("count change: %w", err)
	}
	var seq int64
	if err := tx.Raw("SELECT sync_seq FROM address_books WHERE id = ?", bookID).Scan(&seq).Error; err != nil {
		return 0, fmt.Errorf("read change count: %w", err)
	}
	return seq, nil
}

func (c PutCondition) check(exists bool, etag string) error {
	switch {
	case c.IfNoneMatch && exists:
		return ErrPrecondition
	case c.IfMatch == "":
		return nil
	case !exists:
		return ErrPrecondition
	case c.IfMatch != "*" && c.IfMatch != etag:
		return ErrPrecondition
	}
	return nil
}

func checkHref(href string) error {
	if href == "" || len(href) > maxHrefLen || href == "." || href == ".." || !utf8.ValidString(href) {
		return invalid("href", "is not a valid contact name")
	}
	for _, r := range href {
		if r == '/' || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return invalid("href", "is not a valid contact name")
		}
	}
	return nil
}

// contactFromCard checks a vCard and takes out its indexed fields; the
// card is stored as go-vcard encodes it (every property kept).
func contactFromCard(card vcard.Card) (contactRow, error) {
	var row contactRow
	if card == nil {
		return row, invalid("vcard", "is empty")
	}
	uid := card.Value(vcard.FieldUID)
	if uid == "" {
		return row, invalid("vcard", "has no UID (RFC 6352 5.1)")
	}
	if len(uid) > maxHrefLen || !utf8.ValidString(uid) {
		return row, invalid("vcard", "UID is too long or not UTF-8")
	}
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(card); err != nil {
		return row, invalid("vcard", "cannot be encoded: %v", err)
	}
	if buf.Len() > MaxVCardBytes {
		return row, invalid("vcard", "is too large (%d bytes, at most %d)", buf.Len(), MaxVCardBytes)
	}
	if !utf8.Valid(buf.Bytes()) {
		return row, invalid("vcard", "is not valid UTF-8")
	}
	row.UID = uid
	row.VCard = buf.String()
	row.ETag = etagOf(row.VCard)
	row.FullName = oneLine(card.PreferredValue(vcard.FieldFormattedName), 500)
	if n := card.Name(); n != nil {
		row.FamilyName, row.GivenName = oneLine(n.FamilyName, 200), oneLine(n.GivenName, 200)
	}
	var emails, phones []string
	for _, e := range card.Values(vcard.FieldEmail) {
		if e = strings.ToLower(oneLine(e, 320)); e != "" {
			emails = append(emails, e)
		}
	}
	for _, p := range card.Values(vcard.FieldTelephone) {
		if p = oneLine(strings.TrimPrefix(p, "tel:"), 100); p != "" {
			phones = append(phones, p)
		}
	}
	row.Emails, row.Phones = strings.Join(emails, "\n"), strings.Join(phones, "\n")
	org, _, _ := strings.Cut(card.PreferredValue(vcard.FieldOrganization), ";")
	row.Org = oneLine(org, 200)
	row.Title = oneLine(card.PreferredValue(vcard.FieldTitle), 200)
	return row, nil
}

// oneLine is v without control characters, at most max runes.
func oneLine(v string, max int) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(v, ""))
	if utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max])
	}
	return strings.TrimSpace(v)
}

func etagOf(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:16])
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func (r *contactRow) contact() Contact {
	return Contact{Href: r.Href, ETag: r.ETag, VCard: r.VCard, UpdatedAt: r.UpdatedAt, UID: r.UID,
		FullName: r.FullName, FamilyName: r.FamilyName, GivenName: r.GivenName, Emails: splitLines(r.Emails),
		Phones: splitLines(r.Phones), Org: r.Org, Title: r.Title}
}

// ---- the local directory, derived from the tenant rows on every read

// DirectoryPeople is the local directory of the user's domain: its
// mailboxes that a person reads (active, not expired, storing mail, in an
// active domain) and that the postmaster has not hidden, each with the
// aliases not hidden, by address.
func (s *Service) DirectoryPeople(ctx context.Context, l *Login) ([]DirectoryPerson, error) {
	if err := contactLogin(l); err != nil {
		return nil, err
	}
	return s.directoryPeople(ctx, l.Mailbox.DomainID, "", 0)
}

// directoryPeople is the one query of the local directory: search (when
// set) matches the address or the full name; limit 0: no limit.
func (s *Service) directoryPeople(ctx context.Context, domainID int64, search string, limit int) ([]DirectoryPerson, error) {
	return s.directoryPage(ctx, domainID, dirQuery{search: search, limit: limit})
}

// dirQuery narrows a directory read: search (webmail's: in the local part
// or the full name), terms (any of them in the full name or an address),
// after (the local parts after this one), limit (0: none).
type dirQuery struct {
	search string
	terms  []string
	after  string
	limit  int
	// scanned, when set, gets the number of rows read and the last local
	// part among them (expired mailboxes are read but not listed).
	scanned *dirScanned
}

type dirScanned struct {
	rows int
	last string
}

func (s *Service) directoryPage(ctx context.Context, domainID int64, dq dirQuery) ([]DirectoryPerson, error) {
	db := s.db.Read(ctx).Model(&Mailbox{}).
		Joins("JOIN domains ON domains.id = mailboxes.domain_id").
		Where("mailboxes.domain_id = ? AND mailboxes.active AND domains.active AND mailboxes.store_mail AND mailboxes.in_directory", domainID)
	if search := strings.TrimSpace(dq.search); search != "" {
		pat := database.Contains(search)
		db = db.Where("(mailboxes.local_part LIKE ? ESCAPE '\\' OR LOWER(mailboxes.full_name) LIKE ? ESCAPE '\\')", pat, pat)
	}
	if len(dq.terms) > 0 {
		var ors []string
		var args []any
		for _, t := range dq.terms {
			pat := database.Contains(t)
			ors = append(ors, "LOWER(mailboxes.full_name) LIKE ? ESCAPE '\\'",
				"mailboxes.id IN (SELECT mailbox_id FROM addresses WHERE addresses.domain_id = mailboxes.domain_id AND LOWER(addresses.local_part || '@' || domains.name) LIKE ? ESCAPE '\\')")
			args = append(args, pat, pat)
		}
		db = db.Where("("+strings.Join(ors, " OR ")+")", args...)
	}
	if dq.after != "" {
		db = db.Where("mailboxes.local_part > ?", dq.after)
	}
	var rows []struct {
		Mailbox
		DomainName string
	}
	q := db.Select("mailboxes.*, domains.name AS domain_name").Order("mailboxes.local_part")
	if dq.limit > 0 {
		q = q.Limit(dq.limit)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list directory: %w", err)
	}
	if dq.scanned != nil && len(rows) > 0 {
		dq.scanned.rows, dq.scanned.last = len(rows), rows[len(rows)-1].LocalPart
	}
	now := s.clock()
	ids := make([]int64, 0, len(rows))
	out := make([]DirectoryPerson, 0, len(rows))
	for _, r := range rows {
		if r.Mailbox.Expired(now) {
			continue
		}
		addr := r.LocalPart + "@" + r.DomainName
		p := DirectoryPerson{LocalPart: r.LocalPart, Address: addr, Name: strings.TrimSpace(r.FullName)}
		if p.Name == "" {
			p.Name = addr
			p.Family = r.LocalPart
		} else {
			words := strings.Fields(p.Name)
			p.Family = words[len(words)-1]
			if len(words) > 1 {
				p.Given = strings.Join(words[:len(words)-1], " ")
			}
		}
		ids = append(ids, r.ID)
		out = append(out, p)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var aliases []struct {
		MailboxID int64
		LocalPart string
	}
	for start := 0; start < len(ids); start += 500 {
		var part []struct {
			MailboxID int64
			LocalPart string
		}
		err := s.db.Read(ctx).Table("addresses").Select("mailbox_id, local_part").
			Where("domain_id = ? AND is_alias AND in_directory AND mailbox_id IN ?", domainID, ids[start:min(start+500, len(ids))]).
			Order("local_part").Scan(&part).Error
		if err != nil {
			return nil, fmt.Errorf("list directory aliases: %w", err)
		}
		aliases = append(aliases, part...)
	}
	idx := make(map[int64]int, len(ids))
	for i, id := range ids {
		idx[id] = i
	}
	for _, a := range aliases {
		if i, ok := idx[a.MailboxID]; ok {
			p := &out[i]
			p.Aliases = append(p.Aliases, a.LocalPart+"@"+p.Address[strings.LastIndexByte(p.Address, '@')+1:])
		}
	}
	return out, nil
}

// directoryCard is a directory entry as a vCard 4.0; its UID and href
// come from the address, which the entry shows anyway.
func directoryCard(p DirectoryPerson) Contact {
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "4.0")
	uid := "urn:x-postdesk:directory:" + p.Address
	card.SetValue(vcard.FieldUID, uid)
	card.SetValue(vcard.FieldFormattedName, p.Name)
	card.SetName(&vcard.Name{FamilyName: p.Family, GivenName: p.Given})
	card.SetValue(vcard.FieldKind, "individual")
	card.Add(vcard.FieldEmail, &vcard.Field{Value: p.Address, Params: vcard.Params{vcard.ParamPreferred: {"1"}}})
	for _, a := range p.Aliases {
		card.Add(vcard.FieldEmail, &vcard.Field{Value: a})
	}
	var buf bytes.Buffer
	_ = vcard.NewEncoder(&buf).Encode(card) // a card built here always encodes
	text := buf.String()
	h := sha256.Sum256([]byte(p.Address))
	return Contact{Href: "d" + hex.EncodeToString(h[:10]) + ".vcf", ETag: etagOf(text), VCard: text, UID: uid,
		FullName: p.Name, FamilyName: p.Family, GivenName: p.Given, Emails: append([]string{p.Address}, p.Aliases...)}
}

func (s *Service) directoryContacts(ctx context.Context, l *Login) ([]Contact, error) {
	people, err := s.directoryPeople(ctx, l.Mailbox.DomainID, "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]Contact, len(people))
	for i, p := range people {
		out[i] = directoryCard(p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Href < out[j].Href })
	return out, nil
}

// syncDirectory answers sync-collection on the directory, which keeps no
// change log: its token is a digest of what it shows, so an unchanged
// directory answers nothing, a changed one asks the client (through
// ErrSyncToken) to sync afresh.
func (s *Service) syncDirectory(ctx context.Context, l *Login, token string) (*ContactChanges, error) {
	cs, err := s.directoryContacts(ctx, l)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, c := range cs {
		h.Write([]byte(c.Href + " " + c.ETag + "\n"))
	}
	cur := syncTokenPrefix + "d" + hex.EncodeToString(h.Sum(nil)[:16])
	switch token {
	case "":
		return &ContactChanges{Token: cur, Updated: cs}, nil
	case cur:
		return &ContactChanges{Token: cur}, nil
	}
	return nil, ErrSyncToken
}

// AddressCompletion is what a user's address completion offers for
// search (empty: the first ones): the addresses of the contacts in every
// book the user reads, own and shared books first, then the GAB, then the
// directory (the same list as Directory), each address once, at most
// limit (MaxDirectory when 0 or more).
func (s *Service) AddressCompletion(ctx context.Context, l *Login, search string, limit int) ([]DirectoryEntry, error) {
	if err := contactLogin(l); err != nil {
		return nil, nil
	}
	if limit <= 0 || limit > MaxDirectory {
		limit = MaxDirectory
	}
	books, err := s.ContactBooks(ctx, l)
	if err != nil {
		return nil, err
	}
	search = strings.TrimSpace(search)
	seen := map[string]bool{}
	var out []DirectoryEntry
	add := func(name, addr string) {
		key := strings.ToLower(addr)
		if addr == "" || seen[key] || len(out) >= limit {
			return
		}
		seen[key] = true
		out = append(out, DirectoryEntry{Address: addr, Name: name})
	}
	for _, b := range books {
		if b.Kind == BookDirectory || len(out) >= limit {
			continue
		}
		q := s.db.Read(ctx).Where("book_id = ? AND emails <> ''", b.id)
		if search != "" {
			pat := database.Contains(search)
			q = q.Where("(LOWER(full_name) LIKE ? ESCAPE '\\' OR emails LIKE ? ESCAPE '\\')", pat, pat)
		}
		var rows []contactRow
		if err := q.Select("full_name, emails").Order("full_name").Limit(limit).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("search contacts: %w", err)
		}
		for _, r := range rows {
			for _, e := range splitLines(r.Emails) {
				add(r.FullName, e)
			}
		}
	}
	if len(out) < limit {
		people, err := s.directoryPeople(ctx, l.Mailbox.DomainID, search, limit)
		if err != nil {
			return nil, err
		}
		for _, p := range people {
			name := p.Name
			if name == p.Address {
				name = ""
			}
			add(name, p.Address)
		}
	}
	return out, nil
}

// FoundContact is a contact a search found, with its book.
type FoundContact struct {
	Book ContactBook
	Contact
}

// SearchContacts finds the contacts whose name or address holds search in
// every book the user reads, own books first, the directory last; at most
// limit (MaxDirectory when 0 or more), more telling whether there were.
func (s *Service) SearchContacts(ctx context.Context, l *Login, search string, limit int) (found []FoundContact, more bool, err error) {
	if err := contactLogin(l); err != nil {
		return nil, false, err
	}
	if limit <= 0 || limit > MaxDirectory {
		limit = MaxDirectory
	}
	search = strings.TrimSpace(search)
	if search == "" {
		return nil, false, nil
	}
	books, err := s.ContactBooks(ctx, l)
	if err != nil {
		return nil, false, err
	}
	pat := database.Contains(search)
	for _, b := range books {
		left := limit + 1 - len(found)
		if left <= 0 {
			break
		}
		if b.Kind == BookDirectory {
			people, err := s.directoryPeople(ctx, l.Mailbox.DomainID, search, left)
			if err != nil {
				return nil, false, err
			}
			for _, p := range people {
				found = append(found, FoundContact{Book: b, Contact: directoryCard(p)})
			}
			continue
		}
		if b.id == 0 {
			continue
		}
		var rows []contactRow
		err := s.db.Read(ctx).Where("book_id = ?", b.id).
			Where("(LOWER(full_name) LIKE ? ESCAPE '\\' OR emails LIKE ? ESCAPE '\\' OR LOWER(org) LIKE ? ESCAPE '\\')", pat, pat, pat).
			Order("full_name, href").Limit(left).Find(&rows).Error
		if err != nil {
			return nil, false, fmt.Errorf("search contacts: %w", err)
		}
		for i := range rows {
			found = append(found, FoundContact{Book: b, Contact: rows[i].contact()})
		}
	}
	if len(found) > limit {
		return found[:limit], true, nil
	}
	return found, false, nil
}

// CopyContact copies a contact the user reads into a book they may write
// (the same UID; ErrUIDConflict when the target has it already), and with
// move deletes it from its book, which the user must then also write.
func (s *Service) CopyContact(ctx context.Context, l *Login, fromSlug, href, toSlug string, move bool) error {
	c, err := s.GetContact(ctx, l, fromSlug, href)
	if err != nil {
		return err
	}
	var from *ContactBook
	if move {
		if from, err = s.writableBook(ctx, l, fromSlug); err != nil {
			return err
		}
	}
	to, err := s.writableBook(ctx, l, toSlug)
	if err != nil {
		return err
	}
	if to.Slug == fromSlug {
		return invalid("book", "the contact is in that book already")
	}
	card, err := vcard.NewDecoder(strings.NewReader(c.VCard)).Decode()
	if err != nil {
		return fmt.Errorf("decode stored vCard: %w", err)
	}
	row, err := contactFromCard(card)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		if _, err := s.putContactTx(tx, to.id, c.Href, &row, PutCondition{IfNoneMatch: true}); err != nil {
			if errors.Is(err, ErrPrecondition) {
				return ErrUIDConflict
			}
			return err
		}
		if !move {
			return nil
		}
		return s.deleteContactTx(tx, from.id, c.Href, "")
	})
}
