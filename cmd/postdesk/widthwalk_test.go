package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postdesk/postdesk/browsertest"
	"github.com/postdesk/postdesk/database"
)

// TestWidthWalk opens the pages of the admin, the system mailbox, a
// domain, a user's settings, webmail and a marked message in headless
// Chromium at 390 and 1280 px: no page may scroll sideways. It is a walk
// run by hand (POSTDESK_WIDTH_WALK=1; POSTDESK_SCREENSHOTS=DIR keeps a
// picture of each page), outside the CI run, as the project's heavy walks
// are.
func TestWidthWalk(t *testing.T) {
	if os.Getenv("POSTDESK_WIDTH_WALK") == "" {
		t.Skip("width walk: set POSTDESK_WIDTH_WALK=1 to run it")
	}
	exe := browsertest.Chromium(t)
	bin := buildBinary(t)
	httpAddr, mxAddr := freeAddr(t), freeAddr(t)
	env := panelEnv(t, database.SQLite, httpAddr, "POSTDESK_SMTP_ADDR="+mxAddr, "POSTDESK_PUBLIC_HOST=mail.a-very-long-hosted-domain-name.example", "POSTDESK_HOSTNAME=mx.test")
	runCLI(t, bin, env, "domain", "add", "a.test")
	runCLI(t, bin, env, "mailbox", "add", "ann@a.test", "--password", wmPW)
	base := "http://" + httpAddr
	startServe(t, bin, env, base)
	mx := dialWhenUp(t, mxAddr)
	wmMust(t, mx.SendMail("ann@a.test", []string{"ann@a.test"}, strings.NewReader("From: ann@a.test\r\nTo: ann@a.test\r\nSubject: forged-looking\r\n\r\nHi.\r\n")))
	wmMust(t, mx.SendMail("x@remote.test", []string{"postmaster@a.test"}, strings.NewReader("From: x@remote.test\r\nTo: postmaster@a.test\r\nSubject: to-the-postmaster-with-a-rather-long-subject-line-that-goes-on\r\n\r\nAbuse report.\r\n")))
	mx.Quit()
	dir := os.Getenv("POSTDESK_SCREENSHOTS")
	for _, w := range []int{390, 1280} {
		br := browsertest.Start(t, exe, 120*time.Second, chromedp.WindowSize(w, 900))
		br.Do(chromedp.EmulateViewport(int64(w), 900))
		check := func(name, path string) {
			t.Helper()
			if path != "" {
				br.Do(chromedp.Navigate(base+path), chromedp.WaitReady("body"))
			}
			over, err := chromedp.Run(br.Context(), chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if over {
				wide, _ := chromedp.Run(br.Context(), chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth+1 && !Array.from(e.children).some(c => c.getBoundingClientRect().right > window.innerWidth+1)).slice(0,6).map(e => e.tagName+'.'+e.className+' '+Math.round(e.getBoundingClientRect().right)+' '+(e.textContent||'').slice(0,40)).join(' | ')`))
				t.Errorf("%d px: %s scrolls sideways: %s", w, path, wide)
			}
			if dir == "" {
				return
			}
			b, err := chromedp.Run(br.Context(), chromedp.FullScreenshot(100))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), b, 0o644)
			}
			if err != nil {
				t.Logf("screenshot %s: %v", name, err)
			}
		}
		login := func(name, pw string) {
			br.Do(chromedp.Navigate(base + "/logout"))
			br.Do(chromedp.Navigate(base+"/login"), chromedp.WaitVisible(`#login`), chromedp.SendKeys(`#login`, name),
				chromedp.SendKeys(`#password`, pw), chromedp.Submit(`#password`), chromedp.Sleep(time.Second))
		}
		login("admin", "Adm1n-pass-word!")
		check("admin", "/admin")
		check("systemmail", "/admin/system-mail")
		br.Do(chromedp.Click(`table a`), chromedp.Sleep(500*time.Millisecond))
		check("systemmail-show", "")
		check("domain", "/admin/domains/a.test")
		br.Do(chromedp.Click(`[data-testid=logout]`), chromedp.Sleep(500*time.Millisecond))
		login("ann@a.test", wmPW)
		check("settings", "/settings")
		check("inbox", "/webmail")
		br.Do(chromedp.Click(`//a[@data-testid="message-link"][contains(., "forged-looking")]`), chromedp.WaitVisible(`[data-testid=body]`))
		if s := br.Text(`[data-testid=sender-warning]`); s == "" {
			t.Errorf("no sender warning")
		}
		check("message", "")
		br.Close()
	}
}
