package tenants

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/auth"
)

var adminName = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,63}$`)

// CreateAdmin adds a system administrator.
func (s *Service) CreateAdmin(ctx context.Context, sc Scope, name, password string) (*Admin, error) {
	if !sc.AllDomains() {
		return nil, ErrForbidden
	}
	if !adminName.MatchString(name) {
		return nil, invalid("name", "an administrator name is a lower-case letter, then letters, digits, '.', '_' or '-' (at most 64)")
	}
	if err := auth.CheckStrength(password, name); err != nil {
		var w *auth.WeakPasswordError
		if errors.As(err, &w) {
			return nil, invalid("password", "%s", w.Reason)
		}
		return nil, invalid("password", "%v", err)
	}
	h, err := s.hasher.Hash(password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	a := Admin{Name: name, PasswordHash: h, CreatedAt: s.clock()}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&a).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return fmt.Errorf("administrator %s: %w", name, ErrExists)
			}
			return fmt.Errorf("insert administrator: %w", err)
		}
		return s.audit(tx, sc, nil, "admin.create", "%s", name)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// SetAdminPassword changes an administrator's password, which ends every
// panel session signed in with the old one.
func (s *Service) SetAdminPassword(ctx context.Context, sc Scope, name, password string) error {
	if !sc.AllDomains() {
		return ErrForbidden
	}
	if err := auth.CheckStrength(password, name); err != nil {
		var w *auth.WeakPasswordError
		if errors.As(err, &w) {
			return invalid("password", "%s", w.Reason)
		}
		return invalid("password", "%v", err)
	}
	h, err := s.hasher.Hash(password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE admins SET password_hash = ?, credentials_version = credentials_version + 1 WHERE name = ?", h, name)
		if res.Error != nil {
			return fmt.Errorf("update administrator: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("administrator %s: %w", name, ErrNotFound)
		}
		return s.audit(tx, sc, nil, "admin.passwd", "%s", name)
	})
}

// Admins lists the system administrators.
func (s *Service) Admins(ctx context.Context, sc Scope) ([]Admin, error) {
	if !sc.AllDomains() {
		return nil, ErrForbidden
	}
	var as []Admin
	if err := s.db.Read(ctx).Order("name").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("list administrators: %w", err)
	}
	return as, nil
}

// EnsureFirstAdmin creates the administrator "admin" when there is none,
// with the given password or, when it is empty, a random strong one. It
// returns the password it set, or "" when an administrator already exists.
func (s *Service) EnsureFirstAdmin(ctx context.Context, password string) (string, error) {
	var n int64
	if err := s.db.Read(ctx).Model(&Admin{}).Count(&n).Error; err != nil {
		return "", fmt.Errorf("count administrators: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	if password == "" {
		var err error
		if password, err = auth.RandomPassword(); err != nil {
			return "", err
		}
	}
	if _, err := s.CreateAdmin(ctx, SystemScope("first-run"), "admin", password); err != nil {
		if errors.Is(err, ErrExists) { // another process won the race
			return "", nil
		}
		return "", fmt.Errorf("create first administrator: %w", err)
	}
	return password, nil
}
