package webmail

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// messageRaw shows a message's source as plain text, never rendered.
func (h handlers) messageRaw(c echo.Context) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	fid, err := folderParam(c)
	if err != nil {
		return err
	}
	uid, err := uidParam(c)
	if err != nil {
		return err
	}
	rc, err := h.mail.Open(ctx, acct.mailboxID, fid, uid)
	if err != nil {
		return mailError(err)
	}
	defer rc.Close()
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Disposition", "inline")
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}
