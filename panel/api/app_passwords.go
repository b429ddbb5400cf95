package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// AppPasswordJSON is an app password; Password is set only in the answer
// that made it.
type AppPasswordJSON struct {
	Name       string             `json:"name"`
	Protocols  []tenants.Protocol `json:"protocols"`
	Password   string             `json:"password,omitempty"`
	CreatedAt  *string            `json:"created_at,omitempty"`
	LastUsedAt *string            `json:"last_used_at"`
}

func appPasswordJSON(ap *tenants.AppPassword) AppPasswordJSON {
	return AppPasswordJSON{Name: ap.Name, Protocols: ap.ProtocolList(), CreatedAt: timeString(&ap.CreatedAt), LastUsedAt: timeString(ap.LastUsedAt)}
}

// appPasswordList: GET /domains/{domain}/mailboxes/{local_part}/app-passwords
func (h handlers) appPasswordList(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	aps, err := h.Tenants.AppPasswords(c.Request().Context(), scopeOf(c), a)
	if err != nil {
		return failErr(c, err)
	}
	out := make([]AppPasswordJSON, 0, len(aps))
	for i := range aps {
		out = append(out, appPasswordJSON(&aps[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// appPasswordCreate: POST /domains/{domain}/mailboxes/{local_part}/app-passwords
// {"name", "protocols": ["imap", ...]}; the answer holds the password,
// the only time it is shown.
func (h handlers) appPasswordCreate(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b struct {
		Name      string             `json:"name"`
		Protocols []tenants.Protocol `json:"protocols"`
	}
	if ok, err := decode(c, &b); !ok {
		return err
	}
	pw, ap, err := h.Tenants.CreateAppPassword(c.Request().Context(), scopeOf(c), a, b.Name, b.Protocols)
	if err != nil {
		return failErr(c, err)
	}
	out := appPasswordJSON(ap)
	out.Password = pw
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, out)
}

// appPasswordDelete: DELETE /domains/{domain}/mailboxes/{local_part}/app-passwords/{name}
func (h handlers) appPasswordDelete(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.RevokeAppPassword(c.Request().Context(), scopeOf(c), a, c.Param("name")); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
