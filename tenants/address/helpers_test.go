package address

import (
	"errors"
	"strings"
	"testing"
)

// sentinels are the errors every error of this package must wrap.
var sentinels = []error{ErrSyntax, ErrDomain, ErrNoDomain, ErrLocalpartTooLong, ErrPathTooLong}

// checkErr fails t unless err matches want (nil for success) and, for an
// error, its text contains msg. It reports whether err is nil.
func checkErr(t *testing.T, input string, err, want error, msg string) bool {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%q: unexpected error: %v", input, err)
	case want != nil && err == nil:
		t.Errorf("%q: got no error, want %v", input, want)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%q: error %q does not wrap %v", input, err, want)
	case err != nil && !strings.Contains(err.Error(), msg):
		t.Errorf("%q: error %q does not contain %q", input, err, msg)
	}
	if err != nil {
		checkSentinel(t, input, err)
	}
	return err == nil
}

// checkSentinel fails t unless err wraps exactly one sentinel.
func checkSentinel(t *testing.T, input string, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%q: error %q wraps %d sentinel errors, want 1", input, err, n)
	}
}
