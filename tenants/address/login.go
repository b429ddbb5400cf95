package address

import (
	"fmt"
	"strings"
)

// ParseLogin parses a login name in any of the forms MailMax users type:
// user@domain, user/domain and user%domain, for clients that cannot send an
// @ in a user name. It splits at the last '@'; without one, at the last '/';
// without either, at the last '%'. Case does not matter, as the parts are
// canonicalised like any Localpart and Domain; surrounding spaces are
// ignored. A bare name gives an error wrapping ErrNoDomain, so that the
// caller may try it as a system administrator's name.
//
// The separators cannot occur in names an administrator creates
// (ValidMailboxName), so each login has one reading.
func ParseLogin(s string) (Address, error) {
	a, err := parseLogin(strings.TrimSpace(s))
	if err != nil {
		return Address{}, fmt.Errorf("login %s: %w", quoteInput(s), err)
	}
	return a, nil
}

func parseLogin(s string) (Address, error) {
	if s == "" {
		return Address{}, errorf(ErrSyntax, "empty")
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		i = strings.LastIndexByte(s, '/')
	}
	if i < 0 {
		i = strings.LastIndexByte(s, '%')
	}
	if i < 0 {
		return Address{}, errorf(ErrNoDomain, "no domain; use user@domain, user/domain or user%%domain")
	}
	return parseParts(s[:i], s[i+1:])
}
