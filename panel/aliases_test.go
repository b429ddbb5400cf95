package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestAliasListAdd: the domain's alias list adds an alias to a mailbox
// (name or name@domain), refuses with the reason at the field, and asks
// before a remove.
func TestAliasListAdd(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := paneltest.NewFx(t, db)
		ctx := context.Background()
		c := f.Client()
		c.Login("pm@a.test", paneltest.PW)
		d := c.Get("/d/a.test/aliases", http.StatusOK)
		if d.Find(`[data-testid=alias-add-form] input[name=alias]`).Length() != 1 {
			t.Fatal("no form to add an alias")
		}
		c.Follow(c.Post("/d/a.test/aliases", url.Values{"alias": {"sales"}, "mailbox": {"ann@a.test"}}, http.StatusSeeOther))
		as, err := f.S.Aliases(ctx, f.Sys, paneltest.Addr("ann@a.test").Domain, paneltest.Addr("ann@a.test"))
		if err != nil || len(as) != 1 || as[0].Address != "sales@a.test" {
			t.Fatalf("ann's aliases: %v, %v", as, err)
		}
		d = c.Get("/d/a.test/aliases", http.StatusOK)
		if got := d.Find(`[data-testid=domain-aliases] form[data-confirm]`).Length(); got != 1 {
			t.Errorf("%d remove forms that ask first, want 1", got)
		}
		for _, tc := range []struct {
			alias, mailbox, field, want string
		}{
			{"info", "nobody", "mailbox", "There is no mailbox nobody@a.test."},
			{"info", "dave@b.test", "mailbox", "must be in the domain a.test"},
			{"sales", "carl", "local_part", "sales"},
			{"", "carl", "local_part", "Type a name."},
		} {
			rec := c.Post("/d/a.test/aliases", url.Values{"alias": {tc.alias}, "mailbox": {tc.mailbox}}, http.StatusUnprocessableEntity)
			if body := rec.Body.String(); !strings.Contains(body, tc.want) {
				t.Errorf("%s -> %s: answer lacks %q", tc.alias, tc.mailbox, tc.want)
			}
		}
		// Another domain's mailbox can't be named through a.test's page.
		c.Post("/d/b.test/aliases", url.Values{"alias": {"x"}, "mailbox": {"dave"}}, http.StatusNotFound)
	})
}
