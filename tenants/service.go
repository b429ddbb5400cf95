package tenants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/auth"
)

// Service is the tenant model over one database.
type Service struct {
	db       *database.DB
	hasher   auth.Hasher
	now      func() time.Time
	log      *slog.Logger
	throttle ThrottleConfig
	sleep    func(context.Context, time.Duration)
	// hashSlots bounds password hashes running at once (see verify).
	hashSlots chan struct{}
	// auth remembers verified passwords (authcache.go).
	auth *authCache
	// importSlots bounds the rows of bulk imports checked or hashed at once,
	// over all imports together (see forEachRow).
	importSlots chan struct{}
	// signer is the token signer of links (signer.go), loaded once.
	signer signerCache
	// sealer seals DKIM private keys (dkim.go); nil: none can be made.
	sealer Sealer
}

// Options configures a Service; zero fields take defaults.
type Options struct {
	Hasher   auth.Hasher // zero: auth.DefaultHasher()
	Now      func() time.Time
	Logger   *slog.Logger
	Throttle ThrottleConfig // zero: DefaultThrottle()
	// Sleep waits out a login delay; tests replace it.
	Sleep func(context.Context, time.Duration)
	// AuthCacheTTL is how long a verified password is remembered in this
	// process (authcache.go); zero: 15 minutes; negative: never.
	AuthCacheTTL time.Duration
	// Sealer seals DKIM private keys (dkim.go); nil: DKIM keys can be
	// neither made nor used.
	Sealer Sealer
}

// New returns a Service on db.
func New(db *database.DB, opts Options) *Service {
	s := &Service{db: db, hasher: opts.Hasher, now: opts.Now, log: opts.Logger, throttle: opts.Throttle, sleep: opts.Sleep, sealer: opts.Sealer}
	if s.hasher == (auth.Hasher{}) {
		s.hasher = auth.DefaultHasher()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.throttle == (ThrottleConfig{}) {
		s.throttle = DefaultThrottle()
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	s.hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))
	ttl := opts.AuthCacheTTL
	if ttl == 0 {
		ttl = 15 * time.Minute
	}
	s.auth = newAuthCache(ttl, 100_000)
	s.importSlots = make(chan struct{}, max(1, runtime.NumCPU()/2))
	return s
}

// DB returns the database, for packages that keep their own tables in it.
func (s *Service) DB() *database.DB { return s.db }

// Hasher returns the password hasher.
func (s *Service) Hasher() auth.Hasher { return s.hasher }

func (s *Service) clock() time.Time { return s.now().UTC() }

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// audit records a change in the same transaction as the change.
func (s *Service) audit(tx *gorm.DB, sc Scope, domainID *int64, action, format string, args ...any) error {
	e := AuditEntry{
		At:         s.clock(),
		Actor:      sc.Actor,
		RemoteAddr: sc.RemoteAddr,
		DomainID:   domainID,
		Action:     action,
		Detail:     fmt.Sprintf(format, args...),
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditLog lists recorded changes, newest first: everything for admins, the
// domain's own entries for a postmaster.
func (s *Service) AuditLog(ctx context.Context, sc Scope, limit, offset int) ([]AuditEntry, error) {
	if sc.Role == RoleUser {
		return nil, ErrForbidden
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var es []AuditEntry
	err := s.db.Read(ctx).Scopes(sc.domains("domain_id")).Order("id DESC").Limit(limit).Offset(offset).Find(&es).Error
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return es, nil
}

func notFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

func ptr[T any](v T) *T { return &v }
