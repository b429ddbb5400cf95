package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/postdesk/postdesk/browsertest"
)

// tracker is a loopback web server that records every request: the
// hostile message's remote image, and whatever its scripts would fetch
// if any ran.
type tracker struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

func newTracker(t *testing.T) *tracker {
	tr := &tracker{}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.hits = append(tr.hits, r.URL.Path)
		tr.mu.Unlock()
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	}))
	t.Cleanup(tr.srv.Close)
	return tr
}

func (tr *tracker) got() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.hits)
}

// TestWebmailBrowser runs the built binary (HTTP, SMTP, submission, IMAP)
// and drives webmail in headless Chromium: sign in with each login form,
// read a message that came over SMTP, reply with an attachment (the reply
// is in the sender's INBOX over IMAP, its copy in Sent), and open a
// hostile HTML message: nothing in it runs, and the loopback server its
// remote image points at gets no request until "show images".
func TestWebmailBrowser(t *testing.T) {
	exe := browsertest.Chromium(t)
	bin := buildBinary(t)
	tr := newTracker(t)
	data := t.TempDir()
	httpAddr, mxAddr, subAddr, imapAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	env := []string{"POSTDESK_DATA=" + data, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"POSTDESK_HTTP_ADDR=" + httpAddr, "POSTDESK_SMTP_ADDR=" + mxAddr, "POSTDESK_SUBMISSION_ADDR=" + subAddr, "POSTDESK_IMAP_ADDR=" + imapAddr,
		"POSTDESK_SUBMISSIONS_ADDR=", "POSTDESK_IMAPS_ADDR=", "POSTDESK_POP3_ADDR=", "POSTDESK_POP3S_ADDR=",
		"POSTDESK_ALLOW_PLAINTEXT_AUTH=true", "POSTDESK_HOSTNAME=mail.a.test", "POSTDESK_ADMIN_PASSWORD=Adm1n-pass-word!"}
	cli := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(listenersOff(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("postdesk %v: %v\n%s", args, err, out)
		}
	}
	cli("domain", "add", "a.test")
	cli("mailbox", "add", "ann@a.test", "--password", wmPW, "--name", "Ann Example")
	cli("mailbox", "add", "carl@a.test", "--password", wmPW, "--name", "Carl Example")

	cmd := exec.Command(bin, "serve")
	cmd.Env = append(listenersOff(), env...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &logs
	wmMust(t, cmd.Start())
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()

	// carl writes to ann over SMTP submission; a stranger sends ann a
	// hostile HTML message over the MX.
	sc := dialWhenUp(t, subAddr)
	wmMust(t, sc.Auth(sasl.NewPlainClient("", "carl@a.test", wmPW)))
	wmMust(t, sc.SendMail("carl@a.test", []string{"ann@a.test"}, strings.NewReader("From: Carl Example <carl@a.test>\r\nTo: ann@a.test\r\n"+
		"Subject: browser-hello\r\nMessage-ID: <browser-hello@a.test>\r\nDate: Sun, 22 Nov 2026 09:00:00 +0000\r\n\r\nHello from carl over SMTP.\r\n")))
	sc.Quit()
	tu := tr.srv.URL
	hostile := "From: evil@remote.test\r\nTo: ann@a.test\r\nSubject: hostile-html\r\nMessage-ID: <hostile@remote.test>\r\n" +
		"Date: Sun, 22 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<html><head><style>@import url(" + tu + "/import.css); body { background: url(" + tu + "/style-bg.png) }</style>" +
		"<link rel=stylesheet href=\"" + tu + "/link.css\"></head><body><p id=hello>hello hostile</p>" +
		"<script>document.title='pwned'; fetch('" + tu + "/script'); top.pwned = 1;</script>" +
		"<img src=x onerror=\"fetch('" + tu + "/onerror'); top.pwned = 2\">" +
		"<a id=js href=\"javascript:fetch('" + tu + "/jslink')\">click me</a>" +
		"<svg onload=\"fetch('" + tu + "/svg')\"></svg>" +
		"<div style=\"width: expression(fetch('" + tu + "/expression')); background-image: url(" + tu + "/css-url.png)\">styled</div>" +
		"<select><style><img src=x onerror=\"fetch('" + tu + "/select-style')\"></style></select>" +
		"<\u0455cript>fetch('" + tu + "/cyrillic')</\u0455cript>" +
		"<iframe src=\"" + tu + "/iframe\"></iframe>" +
		"<img src=\"" + tu + "/track.png\" alt=tracker></body></html>\r\n"
	mx := dialWhenUp(t, mxAddr)
	wmMust(t, mx.SendMail("evil@remote.test", []string{"ann@a.test"}, strings.NewReader(hostile)))
	mx.Quit()

	// The browser.
	br := browsertest.Start(t, exe, 120*time.Second, chromedp.WindowSize(1280, 1100))
	defer br.Close() // before the server stops
	base := "http://" + httpAddr
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(br.Context(), chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}
	login := func(name string) {
		t.Helper()
		br.Do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(`#login`), chromedp.SendKeys(`#login`, name),
			chromedp.SendKeys(`#password`, wmPW), chromedp.Submit(`#password`), chromedp.WaitVisible(`[data-testid=messages]`))
		if s := br.Text(`[data-testid=folder-name]`); s != "INBOX" {
			t.Errorf("login as %s landed on %q", name, s)
		}
		if s := br.Text(`[data-testid=messages]`); !strings.Contains(s, "browser-hello") || !strings.Contains(s, "Carl Example") {
			t.Errorf("INBOX as %s: %q", name, s)
		}
	}

	// POSTDESK_SCREENSHOTS=DIR keeps a picture of each page the test
	// looks at, for a person to look at.
	shot := func(name string) {
		t.Helper()
		dir := os.Getenv("POSTDESK_SCREENSHOTS")
		if dir == "" {
			return
		}
		b, err := chromedp.Run(br.Context(), chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
		}
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
		}
	}

	waitUp(t, base+"/healthz")
	login("ann/a.test")
	br.Do(chromedp.Click(`[data-testid=logout]`), chromedp.WaitVisible(`#login`))
	login("ann@a.test")
	shot("inbox")

	// Read carl's message and reply with an attachment.
	br.Do(chromedp.Click(`//a[@data-testid="message-link"][contains(., "browser-hello")]`), chromedp.WaitVisible(`[data-testid=body]`))
	shot("message")
	if s := br.Text(`[data-testid=body]`); !strings.Contains(s, "Hello from carl over SMTP.") {
		t.Errorf("message body %q", s)
	}
	file := filepath.Join(t.TempDir(), "minutes.txt")
	wmMust(t, os.WriteFile(file, []byte("minutes of the meeting\n"), 0o600))
	br.Do(chromedp.Click(`[data-testid=reply]`), chromedp.WaitVisible(`#body`))
	if s := eval(`document.querySelector('#to').value`); s != "Carl Example <carl@a.test>" {
		t.Errorf("reply to %q", s)
	}
	shot("reply")
	br.Do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#body').value = 'Thanks, see the minutes.\n' + document.querySelector('#body').value`),
		chromedp.SetUploadFiles(`#files`, []string{file}), chromedp.Click(`[data-testid=send]`))
	br.WaitText(`[data-testid=flash]`, "Message sent.")

	// The reply is in carl's INBOX over IMAP, with the attachment, and
	// its copy in ann's Sent.
	msgs := imapFetchAll(t, imapAddr, "carl@a.test", "INBOX")
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Subject: Re: browser-hello") || !strings.Contains(msgs[0], "minutes.txt") ||
		!strings.Contains(msgs[0], "In-Reply-To: <browser-hello@a.test>") || !strings.Contains(msgs[0], "Thanks, see the minutes.") {
		t.Errorf("carl's INBOX over IMAP: %q", msgs)
	}
	if sent := imapFetchAll(t, imapAddr, "ann@a.test", "Sent"); len(sent) != 1 || !strings.Contains(sent[0], "Subject: Re: browser-hello") {
		t.Errorf("ann's Sent over IMAP: %q", sent)
	}

	// One store: what webmail did (read, answered) IMAP sees at once, and
	// a flag set over IMAP shows in webmail.
	flags := imapFlags(t, imapAddr, "ann@a.test", `\Flagged`)
	if f := flags["browser-hello"]; !slices.Contains(f, imap.FlagSeen) || !slices.Contains(f, imap.FlagAnswered) {
		t.Errorf("flags over IMAP after reading and replying: %v", flags)
	}
	br.Do(chromedp.Navigate(base+"/webmail"), chromedp.WaitVisible(`[data-testid=messages]`))
	if s := br.Text(`[data-testid=messages] tr.flagged`); !strings.Contains(s, "browser-hello") {
		t.Errorf("flag set over IMAP not shown: %q", s)
	}

	// Address completion from the domain's directory, after a comma too.
	br.Do(chromedp.Click(`[data-testid=compose]`), chromedp.WaitVisible(`#to`), chromedp.SendKeys(`#to`, "someone@x.test, car"))
	br.WaitFor("completion", `Array.from(document.querySelectorAll('#directory option')).some(o => o.value === 'someone@x.test, Carl Example <carl@a.test>')`)

	// The hostile message: shown in the sandboxed frame; nothing runs,
	// nothing is fetched.
	br.Do(chromedp.Click(`//a[@data-testid="folder-link"][.="INBOX"]`), chromedp.WaitVisible(`[data-testid=messages]`),
		chromedp.Click(`//a[@data-testid="message-link"][contains(., "hostile-html")]`), chromedp.WaitVisible(`iframe[data-testid=body-frame]`))
	br.WaitFor("the frame loaded", `(() => { const f = document.querySelector('iframe[data-testid=body-frame]'); return !!f; })()`)
	time.Sleep(1500 * time.Millisecond)
	shot("hostile")
	if hits := tr.got(); len(hits) > 0 {
		t.Errorf("the test server got requests before show images: %v", hits)
	}
	if s := eval(`String(window.pwned) + '|' + document.title`); s != "undefined|hostile-html · Postdesk" {
		t.Errorf("a script ran in the page: %q", s)
	}
	// The frame can't be reached by the page (opaque origin), nor the page
	// by the frame.
	if s := eval(`(() => { try { return String(document.querySelector('iframe').contentDocument); } catch (e) { return 'blocked'; } })()`); s != "null" && s != "blocked" {
		t.Errorf("the frame's document is reachable from the page: %q", s)
	}

	br.Do(chromedp.Click(`[data-testid=show-images]`), chromedp.WaitVisible(`iframe[data-testid=body-frame]`))
	deadline := time.Now().Add(15 * time.Second)
	for !slices.Contains(tr.got(), "/track.png") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	shot("hostile-images")
	if hits := tr.got(); !slices.Equal(hits, []string{"/track.png"}) {
		t.Errorf("after show images the test server got %v, want only the image", hits)
	}
	if s := eval(`String(window.pwned) + '|' + document.title`); s != "undefined|hostile-html · Postdesk" {
		t.Errorf("a script ran in the page: %q", s)
	}
	if t.Failed() {
		t.Logf("tracker hits: %v", fmt.Sprint(tr.got()))
	}
}

// waitUp waits until url answers.
func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := http.Get(url)
		if err == nil {
			r.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// imapFetchAll logs in over IMAP and returns every message of a folder.
func imapFetchAll(t *testing.T, addr, user, folder string) []string {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	wmMust(t, err)
	defer c.Close()
	wmMust(t, c.Login(user, wmPW).Wait())
	sel, err := c.Select(folder, nil).Wait()
	wmMust(t, err)
	if sel.NumMessages == 0 {
		return nil
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	section := &imap.FetchItemBodySection{}
	bufs, err := c.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	wmMust(t, err)
	var out []string
	for _, b := range bufs {
		out = append(out, string(b.FindBodySection(section)))
	}
	c.Logout().Wait()
	return out
}

// imapFlags logs in over IMAP, adds add to the first message of INBOX,
// and returns every INBOX message's flags by subject.
func imapFlags(t *testing.T, addr, user string, add imap.Flag) map[string][]imap.Flag {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	wmMust(t, err)
	defer c.Close()
	wmMust(t, c.Login(user, wmPW).Wait())
	sel, err := c.Select("INBOX", nil).Wait()
	wmMust(t, err)
	wmMust(t, c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{add}}, nil).Close())
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	bufs, err := c.Fetch(set, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	wmMust(t, err)
	out := map[string][]imap.Flag{}
	for _, b := range bufs {
		out[b.Envelope.Subject] = b.Flags
	}
	c.Logout().Wait()
	return out
}
