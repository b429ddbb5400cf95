package panel_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"net/http/httptest"

	"github.com/postdesk/postdesk/tenants/database"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// chromium finds Debian's chromium. Without it the browser test is
// skipped, except under CI=true, where .ci/run installs it and its absence
// is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but chromium is not installed (.ci/run installs it)")
	}
	t.Skip("browser test skipped: chromium not installed (apt-get install chromium)")
	return ""
}

// TestBrowserPostmaster drives the panel in headless Chromium as a
// postmaster: sign in, add a mailbox, add an alias, set a responder and
// import a CSV, checking what each page shows.
func TestBrowserPostmaster(t *testing.T) {
	exe := chromium(t)
	f := newFx(t, tenantstest.Open(t, database.SQLite))
	srv := httptest.NewServer(f.e)
	defer srv.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	csv := filepath.Join(t.TempDir(), "mailboxes.csv")
	must(t, os.WriteFile(csv, []byte("\xef\xbb\xbfusername,description,password,aliases\r\n"+
		"imp1,\"Doe, Jane\",Qz7!vr0001Kp#w,jane;jd\r\nimp2,=1+1,Qz7!vr0002Kp#w,\r\n"), 0o600))

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	read := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	// waitFlash waits for the page a form led to: the one whose flash says
	// want (the previous page may show another flash).
	waitFlash := func(want string) {
		t.Helper()
		js := `(() => { const e = document.querySelector('[data-testid=flash]'); return !!e && e.textContent.includes(` + strconv.Quote(want) + `); })()`
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %q: %v", want, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	expect := func(what, got, want string) {
		t.Helper()
		if !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}

	do(chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "pm/a.test"),
		chromedp.SendKeys(`#password`, pw),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`[data-testid=mailboxes]`))
	expect("signed-in user", read(`[data-testid=user]`), "pm@a.test (postmaster)")

	do(chromedp.Click(`[data-testid=new-mailbox]`),
		chromedp.WaitVisible(`#local_part`),
		chromedp.SendKeys(`#local_part`, "zoe"),
		chromedp.SendKeys(`#password`, "Nq4$wv8!Tz2p"),
		chromedp.SendKeys(`#full_name`, "Zoe Example"),
		chromedp.Submit(`#local_part`),
		chromedp.WaitVisible(`[data-testid=mailbox-heading]`))
	expect("new mailbox page", read(`[data-testid=mailbox-heading]`), "zoe@a.test")
	expect("flash", read(`[data-testid=flash]`), "Mailbox zoe@a.test added.")

	do(chromedp.SendKeys(`#aliases`, "zoe.alias z2"),
		chromedp.Submit(`#aliases`))
	waitFlash("2 aliases added to zoe@a.test.")
	aliases := read(`[data-testid=aliases]`)
	expect("aliases", aliases, "zoe.alias@a.test")
	expect("aliases", aliases, "z2@a.test")

	do(chromedp.Click(`[data-testid=responder-form] input[name=enabled]`),
		chromedp.SendKeys(`#responder-subject`, "Out of office"),
		chromedp.SendKeys(`#responder-body`, "Back on Monday."),
		chromedp.Submit(`#responder-subject`))
	waitFlash("Responder of zoe@a.test is set.")
	expect("responder", read(`[data-testid=responder-status]`), "On: answering incoming mail.")

	do(chromedp.Navigate(srv.URL+"/d/a.test/import"),
		chromedp.WaitVisible(`#file`),
		chromedp.SetUploadFiles(`#file`, []string{csv}),
		chromedp.Submit(`#file`),
		chromedp.WaitVisible(`[data-testid=import-summary]`))
	expect("import preview", read(`[data-testid=import-summary]`), "2 mailboxes to add")
	preview := read(`[data-testid=import-preview]`)
	expect("import preview rows", preview, "Doe, Jane")
	expect("import preview rows", preview, "jane@a.test jd@a.test")
	do(chromedp.Click(`[data-testid=import-confirm]`))
	waitFlash("2 mailboxes imported into a.test.")
	list := read(`[data-testid=mailboxes]`)
	expect("mailbox list after import", list, "imp1@a.test")
	expect("mailbox list after import", list, "zoe@a.test")
	m, err := f.s.Mailbox(ctx, f.sys, addr("imp2@a.test"))
	if err != nil || m.FullName != "=1+1" {
		t.Errorf("imported mailbox %+v %v", m, err)
	}
}
