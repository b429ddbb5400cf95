package tenants_test

import (
	"testing"
	"time"

	"github.com/postdesk/postdesk/tenants"
)

func TestParseEnd(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2026-12-24", "2026-12-25T00:00:00Z"}, // through the 24th
		{" 2026-12-31 ", "2027-01-01T00:00:00Z"},
		{"2026-12-24T08:00:00Z", "2026-12-24T08:00:00Z"},
		{"2026-12-24T08:00:00+02:00", "2026-12-24T06:00:00Z"},
	} {
		got, err := tenants.ParseEnd(c.in)
		if err != nil || got == nil || got.Format(time.RFC3339) != c.want {
			t.Errorf("ParseEnd(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	if got, err := tenants.ParseEnd(""); got != nil || err != nil {
		t.Errorf("ParseEnd(\"\") = %v, %v", got, err)
	}
	if _, err := tenants.ParseEnd("24.12.2026"); err == nil {
		t.Error("ParseEnd took 24.12.2026")
	}
	if got, _ := tenants.ParseDate("2026-12-24"); got.Format(time.RFC3339) != "2026-12-24T00:00:00Z" {
		t.Errorf("ParseDate(2026-12-24) = %v", got)
	}
}
