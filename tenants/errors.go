package tenants

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postdesk/postdesk/tenants/address"
)

// Sentinel errors; boundaries (CLI, panel, API, protocol servers) translate
// them with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrForbidden  = errors.New("forbidden")
	ErrOverQuota  = errors.New("over quota")
	ErrLimit      = errors.New("over the domain's limit")
	ErrNotEmpty   = errors.New("not empty")
	ErrNotHosted  = errors.New("domain not hosted here")
	ErrNoSuchUser = errors.New("no such user")
	ErrDisabled   = errors.New("recipient disabled")
)

// ValidationError says which input field is wrong and why, in words for the
// user.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ConflictError reports an address that is already in use. Holder names what
// holds it when the caller may know (same domain); Error never names a holder
// outside the caller's reach.
type ConflictError struct {
	Address string
	Holder  string
}

func (e *ConflictError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("address %s is already taken", e.Address)
	}
	return fmt.Sprintf("address %s is already taken by %s", e.Address, e.Holder)
}

func (e *ConflictError) Unwrap() error { return ErrExists }

// LimitError names the domain limit a change would exceed.
type LimitError struct {
	What  string
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the domain allows at most %d %s", e.Limit, e.What)
}

func (e *LimitError) Unwrap() error { return ErrLimit }

// NotEmptyError refuses to remove a domain that still holds mailboxes or
// alias domains without being told to remove them too. Its text says what
// is left; each front end says how to confirm (--force, a checkbox).
type NotEmptyError struct {
	Domain       address.Domain
	Mailboxes    int64
	AliasDomains int64
}

func (e *NotEmptyError) Error() string {
	var left []string
	if e.Mailboxes > 0 {
		left = append(left, plural(e.Mailboxes, "mailbox", "mailboxes"))
	}
	if e.AliasDomains > 0 {
		left = append(left, plural(e.AliasDomains, "alias domain", "alias domains"))
	}
	return e.Domain.String() + " still has " + strings.Join(left, " and ")
}

// Unwrap makes errors.Is(err, ErrNotEmpty) hold.
func (e *NotEmptyError) Unwrap() error { return ErrNotEmpty }

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
