// Package browsertest runs headless Chromium (through chromedp) for the
// tests that drive the panel and webmail in a real browser: panel's, on an
// httptest server, and cmd/postdesk's, on the built binary.
//
// It knows nothing of Postdesk: it imports only the standard library and
// chromedp, so panel and cmd tests share it without panel and mailsvc ever
// depending on each other. It lives at the top of the tree, as outbound
// does, because it belongs to neither side. Only _test.go files import it
// (mailsvc/mailtest's imports_test.go checks).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds Debian's chromium. Without it the browser test is
// skipped, except under CI=true, where .ci/run installs it and its absence
// is a failure.
func Chromium(t testing.TB) string {
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

// Browser is a tab of a headless Chromium with a fresh profile. Its
// methods end the test on an error.
type Browser struct {
	t      testing.TB
	ctx    context.Context
	cancel []context.CancelFunc
}

// Start starts the Chromium at exe (from Chromium) with a fresh profile,
// its log to t.Logf. The tab gives up after timeout. opts add to the
// defaults, e.g. chromedp.WindowSize. The browser stops at Close, or at
// the latest when the test's cleanup runs.
func Start(t testing.TB, exe string, timeout time.Duration, opts ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts = append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
	}, opts...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{t: t, ctx: ctx, cancel: []context.CancelFunc{cancelTimeout, cancelTab, cancelAlloc}}
	t.Cleanup(b.Close)
	return b
}

// Close stops the browser. A test defers it after starting the servers the
// browser talks to, so that the browser is gone before they stop: its open
// connections would hold up a graceful shutdown.
func (b *Browser) Close() {
	for _, cancel := range b.cancel {
		cancel()
	}
}

// Context is the tab's context, for chromedp.Run and chromedp.Do.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs steps in the tab.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// Text returns the text of the element sel selects.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	// Read through the page's own DOM rather than chromedp's node ids:
	// right after a form led to a new page, chromedp may still hold ids of
	// the old one ("No node with given id found").
	js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); return e ? e.innerText : null; })()`
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[*string](js))
		if err == nil && s != nil {
			return *s
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("read %s: %v (no such element)", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitFor waits up to 20 seconds for the JavaScript expression js to be
// true; what names it in the failure.
func (b *Browser) WaitFor(what, js string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitText waits for an element sel selects to hold want: after a form,
// for the page it led to (the previous page may show another text there).
func (b *Browser) WaitText(sel, want string) {
	b.t.Helper()
	b.WaitFor(strconv.Quote(want), `(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); return !!e && e.textContent.includes(`+strconv.Quote(want)+`); })()`)
}
