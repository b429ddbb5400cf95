package tenants_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants"
)

// TestLoginFailureLogged: a refusal's reason reads as a word in the log.
func TestLoginFailureLogged(t *testing.T) {
	for f, want := range map[tenants.LoginFailure]string{tenants.BadCredentials: "reason=bad-credentials",
		tenants.Locked: "reason=locked", tenants.Inactive: "reason=inactive", tenants.Expired: "reason=expired"} {
		var b bytes.Buffer
		slog.New(slog.NewTextHandler(&b, nil)).Info("refused", "reason", f)
		if !strings.Contains(b.String(), want) {
			t.Errorf("%d logs %q, want %s", int(f), b.String(), want)
		}
	}
}
