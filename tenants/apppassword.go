package tenants

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Protocol is a protocol a mailbox logs in over, which an app password
// may be limited to.
type Protocol string

// The protocols of mailbox logins.
const (
	IMAP    Protocol = "imap"
	POP3    Protocol = "pop3"
	SMTP    Protocol = "smtp"
	CardDAV Protocol = "carddav"
	LDAP    Protocol = "ldap"
)

// Protocols are the protocols an app password may be limited to, in the
// order pages list them.
var Protocols = []Protocol{IMAP, POP3, SMTP, CardDAV, LDAP}

// MaxAppPasswords bounds a mailbox's app passwords.
const MaxAppPasswords = 50

// AppPassword is a mailbox's password for one mail program, limited to
// some protocols. The password itself is shown once and never stored.
type AppPassword struct {
	ID         int64
	MailboxID  int64
	Name       string
	Prefix     string `json:"-"`
	Hash       string `json:"-"`
	Protocols  string // comma list of Protocol
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// TableName is gorm's table name.
func (AppPassword) TableName() string { return "app_passwords" }

// Allows reports whether the app password may log in over p.
func (a *AppPassword) Allows(p Protocol) bool {
	return p != "" && slices.Contains(strings.Split(a.Protocols, ","), string(p))
}

// ProtocolList is the app password's protocols.
func (a *AppPassword) ProtocolList() []Protocol {
	var out []Protocol
	for _, p := range strings.Split(a.Protocols, ",") {
		if p != "" {
			out = append(out, Protocol(p))
		}
	}
	return out
}

// ParseProtocols reads a comma list of protocols ("imap,smtp"), as the CLI
// and forms give them; the field is named "protocols" in its error.
func ParseProtocols(s string) ([]Protocol, error) {
	var out []Protocol
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		p := Protocol(strings.ToLower(f))
		if !slices.Contains(Protocols, p) {
			return nil, invalid("protocols", "unknown protocol %q (one of imap, pop3, smtp, carddav, ldap)", f)
		}
		out = append(out, p)
	}
	return out, nil
}

// normalProtocols checks ps and returns them as stored: known, each once,
// in Protocols' order, at least one.
func normalProtocols(ps []Protocol) (string, error) {
	var out []string
	for _, p := range Protocols {
		if slices.Contains(ps, p) {
			out = append(out, string(p))
		}
	}
	for _, p := range ps {
		if !slices.Contains(Protocols, p) {
			return "", invalid("protocols", "unknown protocol %q", string(p))
		}
	}
	if len(out) == 0 {
		return "", invalid("protocols", "choose at least one protocol")
	}
	return strings.Join(out, ","), nil
}

// An app password is appPasswordLen characters of lower-case base32 (no
// padding, case-insensitive at login), shown in groups of four; its first
// appPasswordPrefix characters find its row.
const (
	appPasswordLen    = 24
	appPasswordPrefix = 8
)

var appPasswordEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newAppPassword() (string, error) {
	var b [15]byte // 120 bits: 24 base32 characters
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return appPasswordEncoding.EncodeToString(b[:]), nil
}

// appPasswordForm returns a password as an app password would be stored
// (groups and case undone), or "" when it cannot be one.
func appPasswordForm(pw string) string {
	if len(pw) > 64 {
		return ""
	}
	pw = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(pw))
	if len(pw) != appPasswordLen {
		return ""
	}
	if _, err := appPasswordEncoding.DecodeString(pw); err != nil {
		return ""
	}
	return pw
}

// groupAppPassword writes an app password in groups of four, for reading.
func groupAppPassword(pw string) string {
	var parts []string
	for i := 0; i < len(pw); i += 4 {
		parts = append(parts, pw[i:min(i+4, len(pw))])
	}
	return strings.Join(parts, "-")
}

// CreateAppPassword makes an app password for the mailbox at a, limited to
// protocols. It returns the password (in groups of four; mail programs
// may take it with or without the dashes) once; only its hash is kept.
// A user's scope reaches their own mailbox.
func (s *Service) CreateAppPassword(ctx context.Context, sc Scope, a address.Address, name string, protocols []Protocol) (string, *AppPassword, error) {
	name = strings.TrimSpace(name)
	if err := checkText("name", name, 100); err != nil {
		return "", nil, err
	}
	if name == "" {
		return "", nil, invalid("name", "give the app password a name, such as the program or device it is for")
	}
	protos, err := normalProtocols(protocols)
	if err != nil {
		return "", nil, err
	}
	pw, err := newAppPassword()
	if err != nil {
		return "", nil, err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return "", nil, fmt.Errorf("hash app password: %w", err)
	}
	ap := &AppPassword{Name: name, Prefix: pw[:appPasswordPrefix], Hash: hash, Protocols: protos, CreatedAt: s.clock()}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&AppPassword{}).Where("mailbox_id = ?", m.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count app passwords: %w", err)
		}
		if n >= MaxAppPasswords {
			return invalid("name", "at most %d app passwords; revoke one first", MaxAppPasswords)
		}
		var same int64
		if err := tx.Model(&AppPassword{}).Where("mailbox_id = ? AND name = ?", m.ID, name).Count(&same).Error; err != nil {
			return fmt.Errorf("look up app password: %w", err)
		}
		if same > 0 {
			return invalid("name", "an app password of this name exists")
		}
		ap.MailboxID = m.ID
		if err := tx.Create(ap).Error; err != nil {
			return fmt.Errorf("insert app password: %w", err)
		}
		return s.audit(tx, sc, &m.DomainID, "apppassword.create", "%s: %q for %s", a, name, protos)
	})
	if err != nil {
		return "", nil, err
	}
	return groupAppPassword(pw), ap, nil
}

// AppPasswords lists the mailbox's app passwords, by name.
func (s *Service) AppPasswords(ctx context.Context, sc Scope, a address.Address) ([]AppPassword, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, err
	}
	var out []AppPassword
	if err := db.Where("mailbox_id = ?", m.ID).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list app passwords: %w", err)
	}
	return out, nil
}

// RevokeAppPassword removes the mailbox's app password of that name: no
// login takes it from then on (the login reads the row afresh, before the
// auth cache is asked), and the SessionWatch ends the protocol sessions it
// opened.
func (s *Service) RevokeAppPassword(ctx context.Context, sc Scope, a address.Address, name string) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		res := tx.Where("mailbox_id = ? AND name = ?", m.ID, name).Delete(&AppPassword{})
		if res.Error != nil {
			return fmt.Errorf("delete app password: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("app password %q: %w", name, ErrNotFound)
		}
		return s.audit(tx, sc, &m.DomainID, "apppassword.revoke", "%s: %q", a, name)
	})
}

// appPasswordFor returns the mailbox's app password that password would
// be, by its prefix (nil: none; the password is then checked as the
// mailbox's own).
func (s *Service) appPasswordFor(ctx context.Context, mailboxID int64, password string) (*AppPassword, string, error) {
	pw := appPasswordForm(password)
	if pw == "" {
		return nil, "", nil
	}
	var ap AppPassword
	err := s.db.Read(ctx).Where("mailbox_id = ? AND prefix = ?", mailboxID, pw[:appPasswordPrefix]).Take(&ap).Error
	if notFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up app password: %w", err)
	}
	return &ap, pw, nil
}
