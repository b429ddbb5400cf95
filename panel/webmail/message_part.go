package webmail

import (
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// messagePart downloads one attachment: always as a file to save
// (Content-Disposition: attachment, a safe file name, a type browsers do
// not render), never shown in the page.
func (h handlers) messagePart(c echo.Context) error {
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
	n, err := strconv.Atoi(c.Param("part"))
	if err != nil || n <= 0 {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	err = openPart(ctx, h.walker(ctx, acct, fid, uid), n, func(l *leaf, content io.Reader) error {
		hd := c.Response().Header()
		hd.Set(echo.HeaderContentType, "application/octet-stream")
		hd.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": fileName(l)}))
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
		c.Response().WriteHeader(http.StatusOK)
		_, err := io.Copy(c.Response(), content)
		return err
	})
	if !c.Response().Committed {
		return mailError(err)
	}
	return err
}
