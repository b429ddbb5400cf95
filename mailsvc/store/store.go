// Package store is Postdesk's message store, shared by SMTP delivery, IMAP,
// POP3 and webmail.
//
// Layout: every message body is an immutable blob (package blob: a file
// under data/blobs/ab/cd/<key>), written and fsynced before the database
// transaction that references it commits. The database holds per mailbox
// its folders (mail_folders: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ), per
// message its folder, UID, modseq, flags, internal date, size, blob key and
// a per-recipient prefix (Return-Path, Delivered-To), and per blob the
// header, envelope and body structure parsed once at delivery (mail_blobs),
// so FETCH and the webmail list never re-parse bodies. One blob serves every
// local recipient of a delivery. Expunged UIDs are kept with their modseq
// (mail_expunged) so sessions in other processes learn of them; changes are
// announced in-process and, on PostgreSQL, with NOTIFY.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/tenants"
)

// Errors.
var (
	ErrOverQuota     = errors.New("over quota")
	ErrNoFolder      = errors.New("no such folder")
	ErrFolderExists  = errors.New("folder already exists")
	ErrBadFolderName = errors.New("bad folder name")
	ErrNoMessage     = errors.New("no such message")
	ErrInbox         = errors.New("INBOX can't be deleted")
)

// Special-use folders every mailbox gets (RFC 6154), created on first use.
var DefaultFolders = []struct{ Name, SpecialUse string }{
	{"INBOX", ""}, {"Sent", `\Sent`}, {"Drafts", `\Drafts`}, {"Trash", `\Trash`}, {"Junk", `\Junk`}, {"Archive", `\Archive`},
}

// Store is the message store.
type Store struct {
	db     *database.DB
	blobs  blob.Store
	log    *slog.Logger
	now    func() time.Time
	notify *Notifier
	// blobRefs are the tables whose blob_key keeps a blob alive.
	blobRefs []string
	group    groupCommit
	audit    Auditor
}

// Options configures a Store.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// BlobRefs names tables besides mail_messages that reference blobs
	// (the outbound queue), so garbage collection keeps their blobs.
	BlobRefs []string
	// Audit writes an administrator's change to the system mailbox (a
	// deletion) to the audit log, in the change's transaction;
	// *tenants.Service does. nil: not recorded.
	Audit Auditor
}

// Auditor records a change in the audit log inside its transaction.
type Auditor interface {
	RecordAuditTx(tx database.Tx, sc tenants.Scope, domainID *int64, action, detail string) error
}

// New returns a store on db and blobs.
func New(db *database.DB, blobs blob.Store, opts Options) *Store {
	s := &Store{db: db, blobs: blobs, log: opts.Logger, now: opts.Now, blobRefs: append([]string{"mail_messages", systemTable}, opts.BlobRefs...),
		audit: opts.Audit}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.notify = newNotifier()
	return s
}

// Blobs returns the blob store.
func (s *Store) Blobs() blob.Store { return s.blobs }

// DB returns the database.
func (s *Store) DB() *database.DB { return s.db }

// Folder is a mail folder of one mailbox.
type Folder struct {
	ID            int64
	MailboxID     int64
	Name          string
	SpecialUse    string
	Subscribed    bool
	UIDValidity   uint32 `gorm:"column:uid_validity"`
	UIDNext       uint32 `gorm:"column:uid_next"`
	HighestModSeq int64  `gorm:"column:highest_modseq"`
	CreatedAt     time.Time
}

// TableName is gorm's table name.
func (Folder) TableName() string { return "mail_folders" }

// Message is a message's row: everything but its body.
type Message struct {
	ID           int64
	FolderID     int64
	MailboxID    int64
	UID          uint32 `gorm:"column:uid"`
	ModSeq       int64  `gorm:"column:modseq"`
	Seen         bool
	Answered     bool
	Flagged      bool
	Deleted      bool
	Draft        bool
	Keywords     string // space-separated
	InternalDate time.Time
	// InternalZone is the offset, in seconds east of UTC, of the zone
	// InternalDate was given in; InternalDate itself reads back in UTC
	// (PostgreSQL's TIMESTAMPTZ keeps no zone).
	InternalZone int
	Size         int64
	BlobKey      string
	Prefix       string
	// SaveDate is when the message was saved in its folder (IMAP's
	// SAVEDATE, RFC 8514); nil for rows saved before it was recorded
	// (migrations/0065).
	SaveDate *time.Time
}

// TableName is gorm's table name.
func (Message) TableName() string { return "mail_messages" }

// InternalTime is the internal date in the zone it was given in: what
// FETCH INTERNALDATE shows, and whose date SEARCH BEFORE, ON and SINCE
// compare (RFC 9051 6.4.4).
func (m *Message) InternalTime() time.Time {
	if m.InternalZone == 0 {
		return m.InternalDate.UTC()
	}
	return m.InternalDate.In(time.FixedZone("", m.InternalZone))
}

// SavedAt is when the message was saved in its folder: its save date, or
// for a message saved before save dates were kept, its internal date.
func (m *Message) SavedAt() time.Time {
	if m.SaveDate != nil {
		return m.SaveDate.UTC()
	}
	return m.InternalDate.UTC()
}

// BlobRow is a stored body's parsed metadata.
type BlobRow struct {
	BlobKey        string `gorm:"primaryKey"`
	Size           int64
	Header         string
	Envelope       string
	Structure      string
	Subject        string
	FromAddr       string
	ToAddr         string
	CcAddr         string
	MessageID      string
	SentAt         *time.Time
	HasAttachments bool
	CreatedAt      time.Time
}

// TableName is gorm's table name.
func (BlobRow) TableName() string { return "mail_blobs" }

type usage struct {
	MailboxID int64 `gorm:"primaryKey;autoIncrement:false"`
	Bytes     int64
	Messages  int64
}

func (usage) TableName() string { return "mail_usage" }

type expunged struct {
	FolderID int64  `gorm:"primaryKey;autoIncrement:false"`
	UID      uint32 `gorm:"column:uid;primaryKey;autoIncrement:false"`
	ModSeq   int64  `gorm:"column:modseq"`
}

func (expunged) TableName() string { return "mail_expunged" }

// ValidFolderName refuses names IMAP clients could abuse: empty, over 255
// bytes, control characters, empty, "." or ".." hierarchy levels (no path
// tricks), and a leading or trailing delimiter.
func ValidFolderName(name string) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("%w: a folder name has 1 to 255 bytes", ErrBadFolderName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' || r == '\uFFFD' {
			return fmt.Errorf("%w: control, wildcard or invalid characters", ErrBadFolderName)
		}
	}
	for _, level := range strings.Split(name, "/") {
		if level == "" || level == "." || level == ".." || strings.TrimSpace(level) != level {
			return fmt.Errorf("%w: empty, \".\" or \"..\" levels, or spaces around a level", ErrBadFolderName)
		}
	}
	return nil
}

// canonical spells INBOX in upper case, whatever the client wrote.
func canonical(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if len(name) > 6 && strings.EqualFold(name[:6], "INBOX/") {
		return "INBOX" + name[5:]
	}
	return name
}

// EnsureFolders creates the default folders a mailbox lacks.
func (s *Store) EnsureFolders(ctx context.Context, mailboxID int64) error {
	var names []string
	if err := s.db.Read(ctx).Model(&Folder{}).Where("mailbox_id = ?", mailboxID).Pluck("name", &names).Error; err != nil {
		return fmt.Errorf("list folders: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	missing := false
	for _, f := range DefaultFolders {
		missing = missing || !have[f.Name]
	}
	if !missing {
		return nil
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		for _, f := range DefaultFolders {
			if _, err := s.ensureFolderTx(tx, mailboxID, f.Name, f.SpecialUse); err != nil {
				return err
			}
		}
		return nil
	})
}

// ensureFolderTx returns the folder, creating it when missing.
func (s *Store) ensureFolderTx(tx *gorm.DB, mailboxID int64, name, specialUse string) (*Folder, error) {
	var f Folder
	err := tx.Where("mailbox_id = ? AND name = ?", mailboxID, name).Take(&f).Error
	if err == nil {
		return &f, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("look up folder %s: %w", name, err)
	}
	// Two deliveries may make a missing folder at once: insert-or-nothing,
	// then read whichever row won.
	f = Folder{MailboxID: mailboxID, Name: name, SpecialUse: specialUse, Subscribed: true, UIDNext: 1, HighestModSeq: 1, UIDValidity: 1, CreatedAt: s.now().UTC()}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&f)
	if res.Error != nil {
		return nil, fmt.Errorf("create folder %s: %w", name, res.Error)
	}
	if res.RowsAffected == 0 {
		if err := tx.Where("mailbox_id = ? AND name = ?", mailboxID, name).Take(&f).Error; err != nil {
			return nil, fmt.Errorf("look up folder %s: %w", name, err)
		}
		return &f, nil
	}
	f.UIDValidity = uint32(f.ID)
	if err := tx.Model(&Folder{}).Where("id = ?", f.ID).Update("uid_validity", f.UIDValidity).Error; err != nil {
		return nil, fmt.Errorf("set uidvalidity: %w", err)
	}
	return &f, nil
}

func (s *Store) createFolderTx(tx *gorm.DB, mailboxID int64, name, specialUse string) (*Folder, error) {
	f := Folder{MailboxID: mailboxID, Name: name, SpecialUse: specialUse, Subscribed: true, UIDNext: 1, HighestModSeq: 1, CreatedAt: s.now().UTC()}
	// UIDVALIDITY: the folder's id, unique for all time, so a folder
	// deleted and made again never reuses one.
	f.UIDValidity = 1
	if err := tx.Create(&f).Error; err != nil {
		if database.IsUniqueViolation(err) {
			return nil, fmt.Errorf("folder %s: %w", name, ErrFolderExists)
		}
		return nil, fmt.Errorf("create folder %s: %w", name, err)
	}
	f.UIDValidity = uint32(f.ID)
	if err := tx.Model(&Folder{}).Where("id = ?", f.ID).Update("uid_validity", f.UIDValidity).Error; err != nil {
		return nil, fmt.Errorf("set uidvalidity: %w", err)
	}
	return &f, nil
}

// Folders lists a mailbox's folders by name.
func (s *Store) Folders(ctx context.Context, mailboxID int64) ([]Folder, error) {
	var fs []Folder
	if err := s.db.Read(ctx).Where("mailbox_id = ?", mailboxID).Order("name").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return fs, nil
}

// Folder returns one folder of a mailbox by name.
func (s *Store) Folder(ctx context.Context, mailboxID int64, name string) (*Folder, error) {
	var f Folder
	err := s.db.Read(ctx).Where("mailbox_id = ? AND name = ?", mailboxID, canonical(name)).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("folder %q: %w", name, ErrNoFolder)
	}
	if err != nil {
		return nil, fmt.Errorf("look up folder: %w", err)
	}
	return &f, nil
}

// FolderByID returns a folder, checking that it belongs to mailboxID.
func (s *Store) FolderByID(ctx context.Context, mailboxID, id int64) (*Folder, error) {
	var f Folder
	err := s.db.Read(ctx).Where("mailbox_id = ? AND id = ?", mailboxID, id).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("folder %d: %w", id, ErrNoFolder)
	}
	if err != nil {
		return nil, fmt.Errorf("look up folder: %w", err)
	}
	return &f, nil
}

// CreateFolder makes a folder (and any missing parent levels, as IMAP
// CREATE does).
func (s *Store) CreateFolder(ctx context.Context, mailboxID int64, name, specialUse string) (*Folder, error) {
	name = canonical(name)
	if err := ValidFolderName(name); err != nil {
		return nil, err
	}
	var f *Folder
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		if err := checkFolderLimit(tx, mailboxID, withParents(name)); err != nil {
			return err
		}
		levels := strings.Split(name, "/")
		for i := 1; i < len(levels); i++ {
			if _, err := s.ensureFolderTx(tx, mailboxID, strings.Join(levels[:i], "/"), ""); err != nil {
				return err
			}
		}
		var err error
		f, err = s.createFolderTx(tx, mailboxID, name, specialUse)
		return err
	})
	return f, err
}

// DeleteFolder removes a folder and its messages; its sub-folders stay
// (RFC 3501 6.3.4). INBOX can't be deleted.
func (s *Store) DeleteFolder(ctx context.Context, mailboxID int64, name string) error {
	name = canonical(name)
	if name == "INBOX" {
		return ErrInbox
	}
	var fid int64
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var f Folder
		err := tx.Where("mailbox_id = ? AND name = ?", mailboxID, name).Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("folder %q: %w", name, ErrNoFolder)
		}
		if err != nil {
			return err
		}
		fid = f.ID
		// Lock the folder row as every other writer does first, so no
		// expunge, move or delivery lands between the sum and the delete
		// (the usage counter would drift).
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&f, f.ID).Error; err != nil {
			return err
		}
		var sum struct{ Bytes, Messages int64 }
		if err := tx.Model(&Message{}).Where("folder_id = ?", f.ID).Select("COALESCE(SUM(size),0) AS bytes, COUNT(*) AS messages").Scan(&sum).Error; err != nil {
			return err
		}
		if err := tx.Where("folder_id = ?", f.ID).Delete(&Message{}).Error; err != nil {
			return err
		}
		if err := tx.Where("folder_id = ?", f.ID).Delete(&expunged{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Folder{}, f.ID).Error; err != nil {
			return err
		}
		return s.addUsage(tx, mailboxID, -sum.Bytes, -sum.Messages)
	})
	if err != nil {
		return fmt.Errorf("delete folder: %w", err)
	}
	s.notify.publish(fid)
	return nil
}

// RenameFolder renames a folder and its sub-folders. Renaming INBOX moves
// its messages to a new folder and leaves INBOX empty (RFC 3501 6.3.5).
func (s *Store) RenameFolder(ctx context.Context, mailboxID int64, from, to string) error {
	from, to = canonical(from), canonical(to)
	if err := ValidFolderName(to); err != nil {
		return err
	}
	if to == "INBOX" || strings.HasPrefix(to, from+"/") {
		return fmt.Errorf("%w: can't rename to INBOX or into itself", ErrBadFolderName)
	}
	var changed []int64
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var f Folder
		err := tx.Where("mailbox_id = ? AND name = ?", mailboxID, from).Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("folder %q: %w", from, ErrNoFolder)
		}
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&Folder{}).Where("mailbox_id = ? AND name = ?", mailboxID, to).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("folder %q: %w", to, ErrFolderExists)
		}
		if err := checkFolderLimit(tx, mailboxID, renameAdds(from, to)); err != nil {
			return err
		}
		levels := strings.Split(to, "/")
		for i := 1; i < len(levels); i++ {
			if _, err := s.ensureFolderTx(tx, mailboxID, strings.Join(levels[:i], "/"), ""); err != nil {
				return err
			}
		}
		if from == "INBOX" {
			nf, err := s.createFolderTx(tx, mailboxID, to, "")
			if err != nil {
				return err
			}
			var uids []uint32
			if err := tx.Model(&Message{}).Where("folder_id = ?", f.ID).Order("uid").Pluck("uid", &uids).Error; err != nil {
				return err
			}
			if len(uids) > 0 {
				if _, err := s.moveTx(tx, &f, nf, uids); err != nil {
					return err
				}
			}
			changed = append(changed, f.ID, nf.ID)
			return nil
		}
		var subs []Folder
		if err := tx.Where("mailbox_id = ? AND (name = ? OR name LIKE ? ESCAPE '\\')", mailboxID, from, database.EscapeLike(from)+"/%").Find(&subs).Error; err != nil {
			return err
		}
		for _, sf := range subs {
			nn := to + strings.TrimPrefix(sf.Name, from)
			if err := tx.Model(&Folder{}).Where("id = ?", sf.ID).Update("name", nn).Error; err != nil {
				if database.IsUniqueViolation(err) {
					return fmt.Errorf("folder %q: %w", nn, ErrFolderExists)
				}
				return err
			}
			changed = append(changed, sf.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range changed {
		s.notify.publish(id)
	}
	return nil
}

// SetSubscribed sets a folder's subscription.
func (s *Store) SetSubscribed(ctx context.Context, mailboxID int64, name string, on bool) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Folder{}).Where("mailbox_id = ? AND name = ?", mailboxID, canonical(name)).Update("subscribed", on)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("folder %q: %w", name, ErrNoFolder)
		}
		return nil
	})
}

// Status is a folder's counts.
type Status struct {
	Messages      int64
	Unseen        int64
	Deleted       int64
	Size          int64
	UIDNext       uint32
	UIDValidity   uint32
	HighestModSeq int64
}

// FolderStatus counts a folder's messages.
func (s *Store) FolderStatus(ctx context.Context, f *Folder) (*Status, error) {
	var st Status
	db := s.db.Read(ctx)
	err := db.Model(&Message{}).Where("folder_id = ?", f.ID).
		Select(`COUNT(*) AS messages, COALESCE(SUM(CASE WHEN seen THEN 0 ELSE 1 END),0) AS unseen,
			COALESCE(SUM(CASE WHEN deleted THEN 1 ELSE 0 END),0) AS deleted, COALESCE(SUM(size),0) AS size`).Scan(&st).Error
	if err != nil {
		return nil, fmt.Errorf("folder status: %w", err)
	}
	var cur Folder
	if err := db.Take(&cur, f.ID).Error; err != nil {
		return nil, fmt.Errorf("folder status: %w", err)
	}
	st.UIDNext, st.UIDValidity, st.HighestModSeq = cur.UIDNext, cur.UIDValidity, cur.HighestModSeq
	return &st, nil
}

// Usage returns a mailbox's stored bytes and message count; for
// tenants.SystemMailbox, the system mailbox's.
func (s *Store) Usage(ctx context.Context, mailboxID int64) (bytes, messages int64, err error) {
	if mailboxID == tenants.SystemMailbox {
		return s.systemUsage(ctx)
	}
	var u usage
	err = s.db.Read(ctx).Where("mailbox_id = ?", mailboxID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read usage: %w", err)
	}
	return u.Bytes, u.Messages, nil
}

// Usages returns the bytes used by each of mailboxes (absent: none).
func (s *Store) Usages(ctx context.Context, mailboxes []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(mailboxes))
	for c := range slices.Chunk(mailboxes, batchChunk) {
		var us []usage
		if err := s.db.Read(ctx).Where("mailbox_id IN ?", c).Find(&us).Error; err != nil {
			return nil, fmt.Errorf("read usage: %w", err)
		}
		for _, u := range us {
			out[u.MailboxID] = u.Bytes
		}
	}
	return out, nil
}

func (s *Store) addUsage(tx *gorm.DB, mailboxID, bytes, messages int64) error {
	if bytes == 0 && messages == 0 {
		return nil
	}
	err := tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "mailbox_id"}},
		DoUpdates: clause.Assignments(map[string]any{
			"bytes":    gorm.Expr("mail_usage.bytes + ?", bytes),
			"messages": gorm.Expr("mail_usage.messages + ?", messages),
		}),
	}).Create(&usage{MailboxID: mailboxID, Bytes: bytes, Messages: messages}).Error
	if err != nil {
		return fmt.Errorf("update usage: %w", err)
	}
	return nil
}

// checkQuota fails with ErrOverQuota when adding bytes would pass quota (0:
// unlimited). It locks the usage row so concurrent deliveries count right.
func (s *Store) checkQuota(tx *gorm.DB, mailboxID, quota, bytes int64) error {
	if quota <= 0 {
		return nil
	}
	var u usage
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("mailbox_id = ?", mailboxID).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("read usage: %w", err)
	}
	if u.Bytes+bytes > quota {
		return ErrOverQuota
	}
	return nil
}

// allocate reserves n UIDs and one modseq in a folder.
func (s *Store) allocate(tx *gorm.DB, folderID int64, n int) (first uint32, modseq int64, err error) {
	var f Folder
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&f, folderID).Error; err != nil {
		return 0, 0, fmt.Errorf("lock folder: %w", err)
	}
	if int64(f.UIDNext)+int64(n) >= 1<<32 {
		return 0, 0, errors.New("folder ran out of UIDs")
	}
	err = tx.Model(&Folder{}).Where("id = ?", folderID).
		Updates(map[string]any{"uid_next": f.UIDNext + uint32(n), "highest_modseq": f.HighestModSeq + 1}).Error
	if err != nil {
		return 0, 0, fmt.Errorf("allocate uid: %w", err)
	}
	return f.UIDNext, f.HighestModSeq + 1, nil
}

// bumpModSeq reserves one modseq in a folder.
func (s *Store) bumpModSeq(tx *gorm.DB, folderID int64) (int64, error) {
	_, m, err := s.allocate(tx, folderID, 0)
	return m, err
}

// Open reads a message as the client sees it: its prefix, then its blob.
func (s *Store) Open(ctx context.Context, m *Message) (*MessageReader, error) {
	r, err := s.blobs.Open(ctx, m.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open message %d: %w", m.UID, err)
	}
	return newMessageReader(m.Prefix, r), nil
}

// MessageReader reads a stored message: prefix and blob as one.
type MessageReader struct {
	*io.SectionReader
	prefix string
	blob   blob.Reader
}

func newMessageReader(prefix string, b blob.Reader) *MessageReader {
	mr := &MessageReader{prefix: prefix, blob: b}
	mr.SectionReader = io.NewSectionReader(mr, 0, int64(len(prefix))+b.Size())
	return mr
}

// ReadAt reads across the prefix and the blob.
func (r *MessageReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(r.prefix)) {
		n = copy(p, r.prefix[off:])
		if n == len(p) {
			return n, nil
		}
	}
	boff := off + int64(n) - int64(len(r.prefix))
	m, err := r.blob.ReadAt(p[n:], boff)
	return n + m, err
}

// Close closes the blob.
func (r *MessageReader) Close() error { return r.blob.Close() }

// Blob returns the metadata row of a message's blob.
func (s *Store) Blob(ctx context.Context, key string) (*BlobRow, error) {
	var b BlobRow
	if err := s.db.Read(ctx).Where("blob_key = ?", key).Take(&b).Error; err != nil {
		return nil, fmt.Errorf("read blob metadata: %w", err)
	}
	return &b, nil
}

func sortUIDs(u []uint32) { sort.Slice(u, func(i, j int) bool { return u[i] < u[j] }) }
