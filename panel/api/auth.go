package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

const scopeKey = "postdesk.api.scope"

// auth turns the bearer key into the Scope every handler uses. Cookies are
// never looked at.
func (h handlers) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="postdesk"`)
			return fail(c, http.StatusUnauthorized, "an API key is required: Authorization: Bearer KEY", "")
		}
		sc, err := h.Tenants.AuthenticateAPIKey(c.Request().Context(), key, request.ClientOf(c).Addr)
		if errors.Is(err, tenants.ErrBadAPIKey) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="postdesk", error="invalid_token"`)
			return fail(c, http.StatusUnauthorized, "invalid API key", "")
		}
		if err != nil {
			return err
		}
		c.Set(scopeKey, sc)
		return next(c)
	}
}

func scopeOf(c echo.Context) tenants.Scope {
	sc, _ := c.Get(scopeKey).(tenants.Scope)
	return sc
}
