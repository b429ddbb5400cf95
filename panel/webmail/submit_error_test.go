package webmail

import (
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/address"
)

// TestSubmitErrorWords: every refusal has its own sentence for the user,
// and a recipient's names the recipient as the user wrote it (Unicode).
func TestSubmitErrorWords(t *testing.T) {
	rcpt, err := address.ParseAddress("jörg@bücher.test")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]Refusal{}
	for r := RefusedUnavailable; r <= RefusedUnreachable; r++ {
		e := &SubmitError{Refusal: r, Rcpt: rcpt, Err: errors.New("cause")}
		msg := e.Message()
		if msg == (&SubmitError{}).Message() || e.Error() != msg || errors.Unwrap(e).Error() != "cause" {
			t.Errorf("refusal %d: %q", r, msg)
		}
		if other, dup := seen[msg]; dup {
			t.Errorf("refusals %d and %d both say %q", other, r, msg)
		}
		seen[msg] = r
		names := strings.Contains(msg, "jörg@bücher.test")
		if want := r >= RefusedNoMailbox && r != RefusedNoQueue; names != want {
			t.Errorf("refusal %d names the recipient: %v, want %v (%q)", r, names, want, msg)
		}
	}
}
