package tenants

import "strconv"

// String names the reason in logs ("reason=locked", not "reason=2").
func (f LoginFailure) String() string {
	switch f {
	case BadCredentials:
		return "bad-credentials"
	case Locked:
		return "locked"
	case Inactive:
		return "inactive"
	case Expired:
		return "expired"
	}
	return "LoginFailure(" + strconv.Itoa(int(f)) + ")"
}
