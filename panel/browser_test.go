package panel_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postdesk/postdesk/browsertest"
	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestBrowserPostmaster drives the panel in headless Chromium as a
// postmaster: sign in, add a mailbox, add an alias, set a responder and
// import a CSV, checking what each page shows.
func TestBrowserPostmaster(t *testing.T) {
	exe := browsertest.Chromium(t)
	f := paneltest.NewFx(t, tenantstest.Open(t, database.SQLite))
	srv := httptest.NewServer(f.E)
	defer srv.Close()
	br := browsertest.Start(t, exe, 90*time.Second)
	defer br.Close()

	csv := filepath.Join(t.TempDir(), "mailboxes.csv")
	paneltest.Must(t, os.WriteFile(csv, []byte("\xef\xbb\xbfusername,description,password,aliases\r\n"+
		"imp1,\"Doe, Jane\",Qz7!vr0001Kp#w,jane;jd\r\nimp2,=1+1,Qz7!vr0002Kp#w,\r\n"), 0o600))

	expect := func(what, got, want string) {
		t.Helper()
		if !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}

	br.Do(chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "pm/a.test"),
		chromedp.SendKeys(`#password`, paneltest.PW),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`[data-testid=mailboxes]`))
	expect("signed-in user", br.Text(`[data-testid=user]`), "pm@a.test (postmaster)")

	br.Do(chromedp.Click(`[data-testid=new-mailbox]`),
		chromedp.WaitVisible(`#local_part`),
		chromedp.SendKeys(`#local_part`, "zoe"),
		chromedp.SendKeys(`#password`, "Nq4$wv8!Tz2p"),
		chromedp.SendKeys(`#full_name`, "Zoe Example"),
		chromedp.Submit(`#local_part`),
		chromedp.WaitVisible(`[data-testid=mailbox-heading]`))
	expect("new mailbox page", br.Text(`[data-testid=mailbox-heading]`), "zoe@a.test")
	expect("flash", br.Text(`[data-testid=flash]`), "Mailbox zoe@a.test added.")

	br.Do(chromedp.SendKeys(`#aliases`, "zoe.alias z2"),
		chromedp.Submit(`#aliases`))
	br.WaitText(`[data-testid=flash]`, "2 aliases added to zoe@a.test.")
	aliases := br.Text(`[data-testid=aliases]`)
	expect("aliases", aliases, "zoe.alias@a.test")
	expect("aliases", aliases, "z2@a.test")

	br.Do(chromedp.Click(`[data-testid=responder-form] input[name=enabled]`),
		chromedp.SendKeys(`#responder-subject`, "Out of office"),
		chromedp.SendKeys(`#responder-body`, "Back on Monday."),
		chromedp.Submit(`#responder-subject`))
	br.WaitText(`[data-testid=flash]`, "Responder of zoe@a.test is set.")
	expect("responder", br.Text(`[data-testid=responder-status]`), "On: answering incoming mail.")

	br.Do(chromedp.Navigate(srv.URL+"/d/a.test/import"),
		chromedp.WaitVisible(`#file`),
		chromedp.SetUploadFiles(`#file`, []string{csv}),
		chromedp.Submit(`#file`),
		chromedp.WaitVisible(`[data-testid=import-summary]`))
	expect("import preview", br.Text(`[data-testid=import-summary]`), "2 mailboxes to add")
	preview := br.Text(`[data-testid=import-preview]`)
	expect("import preview rows", preview, "Doe, Jane")
	expect("import preview rows", preview, "jane@a.test jd@a.test")
	br.Do(chromedp.Click(`[data-testid=import-confirm]`))
	br.WaitText(`[data-testid=flash]`, "2 mailboxes imported into a.test.")
	list := br.Text(`[data-testid=mailboxes]`)
	expect("mailbox list after import", list, "imp1@a.test")
	expect("mailbox list after import", list, "zoe@a.test")
	m, err := f.S.Mailbox(t.Context(), f.Sys, paneltest.Addr("imp2@a.test"))
	if err != nil || m.FullName != "=1+1" {
		t.Errorf("imported mailbox %+v %v", m, err)
	}
}
