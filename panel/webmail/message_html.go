package webmail

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// frameCSP is the policy of a message's frame document: nothing loads or
// runs but the message's inline styles and its own images (data: URLs);
// remote images only when the user asked (images=1). The document is
// sandboxed by its policy as well as by the frame's attribute, so that
// opened on its own it is no more able; only this site may frame it.
func frameCSP(remoteImages bool) string {
	img := "img-src data:"
	if remoteImages {
		img += " https: http:"
	}
	return "default-src 'none'; style-src 'unsafe-inline'; " + img + "; frame-ancestors 'self'; form-action 'none'; base-uri 'none'; " +
		"sandbox allow-popups allow-popups-to-escape-sandbox"
}

// messageHTML serves a message's HTML, sanitised, as the document of its
// sandboxed frame. It does not mark the message read: the message page
// that frames it does.
func (h handlers) messageHTML(c echo.Context) error {
	acct := accountOf(c)
	fid, err := folderParam(c)
	if err != nil {
		return err
	}
	uid, err := uidParam(c)
	if err != nil {
		return err
	}
	pm, err := h.parseMessage(c, acct, fid, uid, true)
	if err != nil {
		return err
	}
	if pm.HTML == "" {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	images := c.QueryParam("images") == "1"
	s := h.san.sanitize(pm.HTML, pm.Inline, images)
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", frameCSP(images))
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Referrer-Policy", "no-referrer")
	return request.Render(c, http.StatusOK, vwebmail.FrameDoc(s.HTML))
}
