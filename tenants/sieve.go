package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/foxcpp/go-sieve"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
)

// Bounds of a mailbox's Sieve scripts. A script runs on every message the
// mailbox receives, so its size, nesting and actions are bounded when it is
// stored (SieveOptions) and again when it runs: Sieve has no loops (RFC
// 5228 3), so a script within these bounds runs in time linear in its size
// and the message's.
const (
	MaxSieveScriptBytes = 64 << 10
	MaxSieveScripts     = 16
	MaxSieveNameLen     = 128
	// MaxSieveRedirects bounds the redirects of one run: each is a
	// forward, counted against the send limits like one.
	MaxSieveRedirects = 4
	// MaxSieveFileinto bounds the copies one run files.
	MaxSieveFileinto = 16
)

// ErrActiveScript refuses to remove the active script (RFC 5804 2.10:
// DELETESCRIPT answers NO (ACTIVE)).
var ErrActiveScript = errors.New("the script is active")

// SieveScript is one stored script of a mailbox.
type SieveScript struct {
	ID        int64 `gorm:"primaryKey"`
	MailboxID int64
	Name      string
	Content   string
	Active    bool
	UpdatedAt time.Time
}

// SieveOptions are the bounds a script is compiled with, when stored and
// when run at delivery.
func SieveOptions() sieve.Options {
	o := sieve.DefaultOptions()
	o.Lexer.MaxTokens = 5000
	o.Parser.MaxBlockNesting = 15
	o.Parser.MaxTestNesting = 15
	o.Interp.MaxRedirects = MaxSieveRedirects
	return o
}

// CompileSieve compiles a script within the bounds; its error says what is
// wrong, in words a client may be shown (ManageSieve's NO, the filter
// page).
func CompileSieve(content string) (*sieve.Script, error) {
	if len(content) > MaxSieveScriptBytes {
		return nil, invalid("script", "is too long (%d bytes, at most %d)", len(content), MaxSieveScriptBytes)
	}
	if !utf8.ValidString(content) {
		return nil, invalid("script", "is not valid UTF-8")
	}
	sc, err := sieve.Load(strings.NewReader(content), SieveOptions())
	if err != nil {
		return nil, invalid("script", "%s", err.Error())
	}
	return sc, nil
}

// checkSieveName checks a script name as RFC 5804 1.6 asks: UTF-8 without
// control characters or line separators.
func checkSieveName(name string) error {
	if name == "" {
		return invalid("name", "a script needs a name")
	}
	if !utf8.ValidString(name) {
		return invalid("name", "is not valid UTF-8")
	}
	if utf8.RuneCountInString(name) > MaxSieveNameLen {
		return invalid("name", "is too long (at most %d characters)", MaxSieveNameLen)
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return invalid("name", "holds a control character")
		}
	}
	return nil
}

// SieveScripts lists a mailbox's scripts, by name.
func (s *Service) SieveScripts(ctx context.Context, sc Scope, a address.Address) ([]SieveScript, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, err
	}
	var out []SieveScript
	if err := db.Where("mailbox_id = ?", m.ID).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list sieve scripts of %s: %w", a, err)
	}
	return out, nil
}

// SieveScriptByName returns one script of a mailbox; ErrNotFound if it
// has none of that name.
func (s *Service) SieveScriptByName(ctx context.Context, sc Scope, a address.Address, name string) (*SieveScript, error) {
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return nil, err
	}
	return sieveByName(db, m.ID, name)
}

func sieveByName(tx *gorm.DB, mailboxID int64, name string) (*SieveScript, error) {
	var sc SieveScript
	err := tx.Where("mailbox_id = ? AND name = ?", mailboxID, name).Take(&sc).Error
	if notFound(err) {
		return nil, fmt.Errorf("sieve script %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read sieve script %q: %w", name, err)
	}
	return &sc, nil
}

// CheckSieveSpace says whether a mailbox may store a script of size bytes
// under name (RFC 5804 2.3 HAVESPACE): a ValidationError for a bad name,
// ErrOverQuota past the size or the number of scripts.
func (s *Service) CheckSieveSpace(ctx context.Context, sc Scope, a address.Address, name string, size int64) error {
	if err := checkSieveName(name); err != nil {
		return err
	}
	if size > MaxSieveScriptBytes {
		return fmt.Errorf("script of %d bytes, at most %d: %w", size, MaxSieveScriptBytes, ErrOverQuota)
	}
	db := s.db.Read(ctx)
	m, err := s.mailboxTx(db, sc, a)
	if err != nil {
		return err
	}
	return sieveCountTx(db, m.ID, name)
}

// sieveCountTx refuses a new script name past MaxSieveScripts.
func sieveCountTx(tx *gorm.DB, mailboxID int64, name string) error {
	var n int64
	if err := tx.Model(&SieveScript{}).Where("mailbox_id = ? AND name <> ?", mailboxID, name).Count(&n).Error; err != nil {
		return fmt.Errorf("count sieve scripts: %w", err)
	}
	if n >= MaxSieveScripts {
		return fmt.Errorf("at most %d scripts: %w", MaxSieveScripts, ErrOverQuota)
	}
	return nil
}

// PutSieveScript stores a script under name, replacing one of that name
// (RFC 5804 2.6); a script that does not compile is refused with a
// ValidationError and nothing is written. A replaced active script stays
// active.
func (s *Service) PutSieveScript(ctx context.Context, sc Scope, a address.Address, name, content string) error {
	if err := checkSieveName(name); err != nil {
		return err
	}
	if len(content) > MaxSieveScriptBytes {
		return fmt.Errorf("script of %d bytes, at most %d: %w", len(content), MaxSieveScriptBytes, ErrOverQuota)
	}
	if _, err := CompileSieve(content); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		old, err := sieveByName(tx, m.ID, name)
		switch {
		case err == nil:
			r := tx.Model(&SieveScript{}).Where("id = ?", old.ID).Updates(map[string]any{"content": content, "updated_at": s.clock()})
			if r.Error != nil {
				return fmt.Errorf("update sieve script %q: %w", name, r.Error)
			}
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if err := sieveCountTx(tx, m.ID, name); err != nil {
			return err
		}
		if err := tx.Create(&SieveScript{MailboxID: m.ID, Name: name, Content: content, UpdatedAt: s.clock()}).Error; err != nil {
			return fmt.Errorf("store sieve script %q: %w", name, err)
		}
		return nil
	})
}

// SetActiveSieveScript makes name the mailbox's one active script; ""
// deactivates every script (RFC 5804 2.8).
func (s *Service) SetActiveSieveScript(ctx context.Context, sc Scope, a address.Address, name string) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		var id int64
		if name != "" {
			sc, err := sieveByName(tx, m.ID, name)
			if err != nil {
				return err
			}
			id = sc.ID
		}
		if err := tx.Model(&SieveScript{}).Where("mailbox_id = ? AND active AND id <> ?", m.ID, id).Update("active", false).Error; err != nil {
			return fmt.Errorf("deactivate sieve scripts: %w", err)
		}
		if id != 0 {
			if err := tx.Model(&SieveScript{}).Where("id = ?", id).Update("active", true).Error; err != nil {
				return fmt.Errorf("activate sieve script %q: %w", name, err)
			}
		}
		return nil
	})
}

// DeleteSieveScript removes a script; the active one is refused with
// ErrActiveScript (RFC 5804 2.10).
func (s *Service) DeleteSieveScript(ctx context.Context, sc Scope, a address.Address, name string) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		old, err := sieveByName(tx, m.ID, name)
		if err != nil {
			return err
		}
		if old.Active {
			return fmt.Errorf("delete sieve script %q: %w", name, ErrActiveScript)
		}
		if err := tx.Delete(&SieveScript{}, old.ID).Error; err != nil {
			return fmt.Errorf("delete sieve script %q: %w", name, err)
		}
		return nil
	})
}

// RenameSieveScript renames a script (RFC 5804 2.11.1): ErrNotFound for
// an unknown old name, ErrExists when the new one is taken.
func (s *Service) RenameSieveScript(ctx context.Context, sc Scope, a address.Address, oldName, newName string) error {
	if err := checkSieveName(newName); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		m, err := s.mailboxTx(tx, sc, a)
		if err != nil {
			return err
		}
		old, err := sieveByName(tx, m.ID, oldName)
		if err != nil {
			return err
		}
		if _, err := sieveByName(tx, m.ID, newName); err == nil {
			return fmt.Errorf("sieve script %q: %w", newName, ErrExists)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.Model(&SieveScript{}).Where("id = ?", old.ID).Updates(map[string]any{"name": newName, "updated_at": s.clock()}).Error; err != nil {
			return fmt.Errorf("rename sieve script %q: %w", oldName, err)
		}
		return nil
	})
}

// ActiveSieve returns the active script of a mailbox; ErrNotFound when it
// has none. It is delivery's lookup (a system-scope entry point).
func (s *Service) ActiveSieve(ctx context.Context, mailboxID int64) (*SieveScript, error) {
	var out []SieveScript
	if err := s.db.Read(ctx).Where("mailbox_id = ? AND active", mailboxID).Limit(1).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read the active sieve script of mailbox %d: %w", mailboxID, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("active sieve script of mailbox %d: %w", mailboxID, ErrNotFound)
	}
	return &out[0], nil
}
