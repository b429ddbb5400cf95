package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"
)

// Two-factor sign-in: a TOTP code (RFC 6238: 6 digits, 30-second steps,
// SHA-1, as every authenticator app takes them) or a recovery code, asked
// after the password at the panel's and webmail's sign-in. With two
// factors on, protocol logins take app passwords only (ResolveLogin).

// totpPeriod is RFC 6238's default time step.
const totpPeriod = 30

// totpSkew is how many steps before and after now a code is taken, for
// clocks that drift (RFC 6238 5.2 recommends at most one).
const totpSkew = 1

// recoveryCodes is how many recovery codes an enrolment gives.
const recoveryCodes = 10

// twoFactorRow is an account's TOTP factor (migration 0067).
type twoFactorRow struct {
	ID          int64
	MailboxID   *int64
	AdminID     *int64
	TOTPSecret  string `gorm:"column:totp_secret"`
	LastStep    int64
	ConfirmedAt *time.Time
	CreatedAt   time.Time
}

func (twoFactorRow) TableName() string { return "two_factor" }

type recoveryCode struct {
	ID          int64
	TwoFactorID int64
	Hash        string
	UsedAt      *time.Time
}

func (recoveryCode) TableName() string { return "recovery_codes" }

// accountWhere restricts two_factor rows to the login's account.
func (l *Login) accountWhere(db *gorm.DB) *gorm.DB {
	if l.Admin != nil {
		return db.Where("admin_id = ?", l.Admin.ID)
	}
	return db.Where("mailbox_id = ?", l.Mailbox.ID)
}

// throttleAccount is the login's account key in the throttle.
func (l *Login) throttleAccount() string {
	if l.Admin != nil {
		return accountKey("admin:" + l.Admin.Name)
	}
	return accountKey(l.Address.String())
}

// twoFactorOn reports whether the login's account has a confirmed factor.
func (s *Service) twoFactorOn(db *gorm.DB, l *Login) (bool, error) {
	var n int64
	if err := l.accountWhere(db.Model(&twoFactorRow{})).Where("confirmed_at IS NOT NULL").Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up two-factor sign-in: %w", err)
	}
	return n > 0, nil
}

// twoFactorRequired reports whether the login's account must have two
// factors: its domain requires them of its users, or the setting
// require_two_factor_admins of administrators.
func (s *Service) twoFactorRequired(db *gorm.DB, l *Login) (bool, error) {
	if l.Admin != nil {
		v, err := s.settingTx(db, settingRequireTwoFactorAdmins)
		return v == "true", err
	}
	var d Domain
	if err := db.Select("require_two_factor").Take(&d, l.Mailbox.DomainID).Error; err != nil {
		return false, fmt.Errorf("look up domain: %w", err)
	}
	return d.RequireTwoFactor, nil
}

const settingRequireTwoFactorAdmins = "require_two_factor_admins"

func (s *Service) settingTx(db *gorm.DB, name string) (string, error) {
	var st setting
	err := db.Where("name = ?", name).Take(&st).Error
	if notFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return st.Value, nil
}

// TOTPEnrolment is a started enrolment: the secret to give the
// authenticator app, as an otpauth URI (for a QR code) and as text.
type TOTPEnrolment struct {
	URI    string
	Secret string
}

// BeginTOTP starts (or restarts) a TOTP enrolment for the signed-in
// account: a new secret, not on until ConfirmTOTP takes a code of it. An
// account whose factor is on must turn it off first.
func (s *Service) BeginTOTP(ctx context.Context, l *Login, issuer string) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: l.displayName(), Period: totpPeriod, Rand: rand.Reader})
	if err != nil {
		return nil, fmt.Errorf("make TOTP secret: %w", err)
	}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		on, err := s.twoFactorOn(tx, l)
		if err != nil {
			return err
		}
		if on {
			return invalid("code", "two-factor sign-in is already on")
		}
		if err := l.accountWhere(tx).Delete(&twoFactorRow{}).Error; err != nil {
			return fmt.Errorf("drop unfinished enrolment: %w", err)
		}
		row := twoFactorRow{TOTPSecret: key.Secret(), CreatedAt: s.clock()}
		if l.Admin != nil {
			row.AdminID = &l.Admin.ID
		} else {
			row.MailboxID = &l.Mailbox.ID
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store TOTP secret: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{URI: key.URL(), Secret: key.Secret()}, nil
}

// PendingTOTP returns the unfinished enrolment of the account, nil if
// none.
func (s *Service) PendingTOTP(ctx context.Context, l *Login, issuer string) (*TOTPEnrolment, error) {
	var row twoFactorRow
	err := l.accountWhere(s.db.Read(ctx)).Where("confirmed_at IS NULL").Take(&row).Error
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read enrolment: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: l.displayName(), Period: totpPeriod, Secret: mustBase32(row.TOTPSecret)})
	if err != nil {
		return nil, fmt.Errorf("rebuild TOTP key: %w", err)
	}
	return &TOTPEnrolment{URI: key.URL(), Secret: row.TOTPSecret}, nil
}

func mustBase32(s string) []byte {
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(s))
	if err != nil {
		return nil
	}
	return b
}

// ConfirmTOTP turns the enrolment on when code is a current code of its
// secret, and returns the recovery codes, shown once (each signs in once
// in place of a code; only their hashes are kept).
func (s *Service) ConfirmTOTP(ctx context.Context, l *Login, code string) ([]string, error) {
	var codes []string
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var row twoFactorRow
		err := l.accountWhere(tx).Where("confirmed_at IS NULL").Take(&row).Error
		if notFound(err) {
			return invalid("code", "start the enrolment again")
		}
		if err != nil {
			return fmt.Errorf("read enrolment: %w", err)
		}
		step, ok := matchTOTP(row.TOTPSecret, code, s.clock(), 0)
		if !ok {
			return invalid("code", "this is not the code the app shows now")
		}
		now := s.clock()
		if err := tx.Model(&twoFactorRow{}).Where("id = ?", row.ID).Updates(map[string]any{"confirmed_at": now, "last_step": step}).Error; err != nil {
			return fmt.Errorf("confirm TOTP: %w", err)
		}
		if codes, err = s.newRecoveryCodes(tx, row.ID); err != nil {
			return err
		}
		return s.audit(tx, l.UserScope(""), l.domainID(), "twofactor.on", "%s", l.displayName())
	})
	return codes, err
}

// NewRecoveryCodes replaces the account's recovery codes with fresh ones.
func (s *Service) NewRecoveryCodes(ctx context.Context, l *Login) ([]string, error) {
	var codes []string
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var row twoFactorRow
		err := l.accountWhere(tx).Where("confirmed_at IS NOT NULL").Take(&row).Error
		if notFound(err) {
			return invalid("code", "two-factor sign-in is off")
		}
		if err != nil {
			return fmt.Errorf("read two-factor sign-in: %w", err)
		}
		codes, err = s.newRecoveryCodes(tx, row.ID)
		return err
	})
	return codes, err
}

func (s *Service) newRecoveryCodes(tx *gorm.DB, factorID int64) ([]string, error) {
	if err := tx.Where("two_factor_id = ?", factorID).Delete(&recoveryCode{}).Error; err != nil {
		return nil, fmt.Errorf("drop recovery codes: %w", err)
	}
	var codes []string
	for range recoveryCodes {
		var b [8]byte // 64 bits; a fast hash is enough for random codes
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("read random: %w", err)
		}
		c := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:12]
		codes = append(codes, c[:6]+"-"+c[6:])
		if err := tx.Create(&recoveryCode{TwoFactorID: factorID, Hash: hashRecovery(c)}).Error; err != nil {
			return nil, fmt.Errorf("store recovery code: %w", err)
		}
	}
	return codes, nil
}

func hashRecovery(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// recoveryForm is a recovery code as stored (dash, spaces and case undone).
func recoveryForm(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
}

// TurnOffTwoFactor removes the account's factor and recovery codes, after
// a current code (or a recovery code). An account whose domain (or, for
// an administrator, the system) requires two factors may not.
func (s *Service) TurnOffTwoFactor(ctx context.Context, l *Login, code, remote string) error {
	req, err := s.twoFactorRequired(s.db.Read(ctx), l)
	if err != nil {
		return err
	}
	if req {
		return invalid("code", "two-factor sign-in is required for this account")
	}
	if err := s.CheckSecondFactor(ctx, l, code, remote); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		if err := l.accountWhere(tx).Delete(&twoFactorRow{}).Error; err != nil {
			return fmt.Errorf("turn two-factor sign-in off: %w", err)
		}
		return s.audit(tx, l.UserScope(remote), l.domainID(), "twofactor.off", "%s", l.displayName())
	})
}

// TwoFactorState is what the account's settings page shows.
type TwoFactorState struct {
	On            bool
	Required      bool
	RecoveryLeft  int
	PendingExists bool
}

// TwoFactor returns the account's two-factor state.
func (s *Service) TwoFactor(ctx context.Context, l *Login) (*TwoFactorState, error) {
	db := s.db.Read(ctx)
	st := &TwoFactorState{}
	var row twoFactorRow
	err := l.accountWhere(db).Take(&row).Error
	switch {
	case notFound(err):
	case err != nil:
		return nil, fmt.Errorf("read two-factor sign-in: %w", err)
	case row.ConfirmedAt == nil:
		st.PendingExists = true
	default:
		st.On = true
		var n int64
		if err := db.Model(&recoveryCode{}).Where("two_factor_id = ? AND used_at IS NULL", row.ID).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("count recovery codes: %w", err)
		}
		st.RecoveryLeft = int(n)
	}
	if st.Required, err = s.twoFactorRequired(db, l); err != nil {
		return nil, err
	}
	return st, nil
}

// CheckSecondFactor checks the second step of a sign-in: a current TOTP
// code not used before, or an unused recovery code (used up by this). It
// counts against the shared throttle as a password does: a wrong code is
// a failed login of the account from remote, and a locked account or
// address is refused without a check. The refusal is a *LoginError
// (BadCredentials or Locked).
func (s *Service) CheckSecondFactor(ctx context.Context, l *Login, code, remote string) error {
	res, locked, err := s.reserve(ctx, s.throttleKeys(l.throttleAccount(), addressKey(remote)))
	if err != nil {
		return err
	}
	defer s.release(res)
	if locked {
		return &LoginError{Reason: Locked}
	}
	ok, err := s.takeSecondFactor(ctx, l, code)
	if err != nil {
		return err
	}
	if !ok {
		delay, err := s.failure(ctx, res)
		if err != nil {
			return err
		}
		s.sleep(ctx, delay)
		return &LoginError{Reason: BadCredentials}
	}
	return s.success(ctx, res)
}

// takeSecondFactor uses up code: a TOTP code moves the factor's last step
// on (a code, or an earlier one, is not taken twice), a recovery code is
// marked used. Both are conditional updates, so two sign-ins racing with
// one code get it once.
func (s *Service) takeSecondFactor(ctx context.Context, l *Login, code string) (bool, error) {
	if len(code) > 64 {
		return false, nil
	}
	ok := false
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		var row twoFactorRow
		err := l.accountWhere(tx).Where("confirmed_at IS NOT NULL").Take(&row).Error
		if notFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read two-factor sign-in: %w", err)
		}
		now := s.clock()
		if step, match := matchTOTP(row.TOTPSecret, code, now, row.LastStep); match {
			r := tx.Model(&twoFactorRow{}).Where("id = ? AND last_step < ?", row.ID, step).Update("last_step", step)
			if r.Error != nil {
				return fmt.Errorf("take TOTP code: %w", r.Error)
			}
			ok = r.RowsAffected == 1
			return nil
		}
		r := tx.Model(&recoveryCode{}).Where("two_factor_id = ? AND hash = ? AND used_at IS NULL", row.ID, hashRecovery(recoveryForm(code))).Update("used_at", now)
		if r.Error != nil {
			return fmt.Errorf("take recovery code: %w", r.Error)
		}
		if ok = r.RowsAffected == 1; ok {
			return s.audit(tx, l.UserScope(""), l.domainID(), "twofactor.recovery", "%s used a recovery code", l.displayName())
		}
		return nil
	})
	return ok, err
}

// matchTOTP returns the time step whose code code is, within totpSkew of
// now and after step after.
func matchTOTP(secret, code string, now time.Time, after int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step <= after {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// domainID is the login's domain for the audit log (nil: an administrator).
func (l *Login) domainID() *int64 {
	if l.Mailbox == nil {
		return nil
	}
	return &l.Mailbox.DomainID
}

// SetAdminTwoFactorRequired sets whether administrators must sign in with
// two factors (an administrator's choice).
func (s *Service) SetAdminTwoFactorRequired(ctx context.Context, sc Scope, required bool) error {
	if !sc.AllDomains() {
		return ErrForbidden
	}
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		v := fmt.Sprint(required)
		if err := tx.Save(&setting{Name: settingRequireTwoFactorAdmins, Value: v}).Error; err != nil {
			return fmt.Errorf("set two-factor requirement: %w", err)
		}
		return s.audit(tx, sc, nil, "admin.twofactor", "required %v", required)
	})
}

// AdminTwoFactorRequired reports whether administrators must sign in with
// two factors.
func (s *Service) AdminTwoFactorRequired(ctx context.Context) (bool, error) {
	v, err := s.settingTx(s.db.Read(ctx), settingRequireTwoFactorAdmins)
	return v == "true", err
}
