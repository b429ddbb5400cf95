package panel_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postdesk/postdesk/browsertest"
	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/panel/paneltest"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// TestDarkMode: the panel follows the system's colour scheme. Under a
// dark setting the page and its cards are dark and the text light; under
// a light one, the reverse.
func TestDarkMode(t *testing.T) {
	exe := browsertest.Chromium(t)
	f := paneltest.NewFx(t, tenantstest.Open(t, database.SQLite))
	srv := httptest.NewServer(f.E)
	defer srv.Close()
	br := browsertest.Start(t, exe, 60*time.Second)
	defer br.Close()
	// luminance of an element's computed colour property, 0 (black) to 255.
	const lum = `(sel, prop) => { const m = getComputedStyle(document.querySelector(sel))[prop].match(/\d+/g).map(Number); return (m[0]*299 + m[1]*587 + m[2]*114) / 1000; }`
	for _, tc := range []struct {
		scheme string
		dark   bool
	}{{"dark", true}, {"light", false}} {
		br.Do(browsertest.ColorScheme(tc.scheme), chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(`#login`))
		for _, c := range []struct{ sel, prop string }{{"body", "backgroundColor"}, {".card", "backgroundColor"}, {"body", "color"}} {
			v, err := chromedp.Run(br.Context(), chromedp.Evaluate[float64]("("+lum+")('"+c.sel+"', '"+c.prop+"')"))
			if err != nil {
				t.Fatal(err)
			}
			isDark := v < 128
			if c.prop == "color" {
				isDark = !isDark // the text is light on a dark page
			}
			if isDark != tc.dark {
				t.Errorf("%s scheme: %s %s has luminance %.0f", tc.scheme, c.sel, c.prop, v)
			}
		}
	}
}
