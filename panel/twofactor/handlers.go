// Package twofactor is an account's two-factor sign-in page (/two-factor),
// for mailboxes and administrators alike: TOTP enrolment with a QR code,
// recovery codes, turning it off, and an administrator's rule for all
// administrators. The sign-in's second step is the panel's own (signin).
package twofactor

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vtwofactor "github.com/postdesk/postdesk/views/twofactor"
)

// Issuer names Postdesk in authenticator apps.
const Issuer = "Postdesk"

type handlers struct{ *request.Env }

// Routes adds the two-factor routes to g (mounted at /two-factor, behind
// the signed-in check).
func Routes(g *echo.Group, env *request.Env) {
	h := handlers{env}
	g.GET("", h.show)
	g.POST("/begin", h.begin)
	g.POST("/confirm", h.confirm)
	g.POST("/recovery", h.recovery)
	g.POST("/off", h.off)
	g.POST("/admins", h.admins)
}

func (h handlers) show(c echo.Context) error {
	vm, err := h.page(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vtwofactor.TwoFactorPage(*vm))
}

// page builds the page from what is stored.
func (h handlers) page(c echo.Context) (*vtwofactor.Page, error) {
	ctx := c.Request().Context()
	id := request.IdentityOf(c)
	st, err := h.Tenants.TwoFactor(ctx, id.Login)
	if err != nil {
		return nil, request.Status(err)
	}
	vm := &vtwofactor.Page{Page: h.Page(c, "Two-factor sign-in"),
		Card: vtwofactor.TwoFactor{CSRFToken: id.CSRF, On: st.On, Required: st.Required, RecoveryLeft: st.RecoveryLeft}}
	if st.PendingExists {
		en, err := h.Tenants.PendingTOTP(ctx, id.Login, Issuer)
		if err != nil {
			return nil, request.Status(err)
		}
		if en != nil {
			qr, err := qrDataURI(en.URI)
			if err != nil {
				return nil, fmt.Errorf("draw QR code: %w", err)
			}
			vm.Card.PendingURI, vm.Card.PendingSecret, vm.Card.PendingQR = en.URI, en.Secret, qr
		}
	}
	if id.IsAdmin() {
		req, err := h.Tenants.AdminTwoFactorRequired(ctx)
		if err != nil {
			return nil, err
		}
		vm.Admins = &vtwofactor.AdminsRule{CSRFToken: id.CSRF, Required: req}
	}
	return vm, nil
}

// begin starts a TOTP enrolment; the page then shows its key.
func (h handlers) begin(c echo.Context) error {
	id := request.IdentityOf(c)
	if _, err := h.Tenants.BeginTOTP(c.Request().Context(), id.Login, Issuer); err != nil {
		return h.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/two-factor")
}

// confirm turns the enrolment on with a first code, and shows the
// recovery codes once.
func (h handlers) confirm(c echo.Context) error {
	id := request.IdentityOf(c)
	codes, err := h.Tenants.ConfirmTOTP(c.Request().Context(), id.Login, c.FormValue("code"))
	if err != nil {
		return h.fail(c, err)
	}
	id.Login.TwoFactor = true
	return h.showRecovery(c, codes)
}

// recovery replaces the recovery codes and shows the new ones once.
func (h handlers) recovery(c echo.Context) error {
	id := request.IdentityOf(c)
	codes, err := h.Tenants.NewRecoveryCodes(c.Request().Context(), id.Login)
	if err != nil {
		return h.fail(c, err)
	}
	return h.showRecovery(c, codes)
}

// off turns two-factor sign-in off, after a code.
func (h handlers) off(c echo.Context) error {
	id := request.IdentityOf(c)
	if err := h.Tenants.TurnOffTwoFactor(c.Request().Context(), id.Login, c.FormValue("code"), request.ClientOf(c).Addr); err != nil {
		return h.fail(c, err)
	}
	return h.Done(c, "Two-factor sign-in is off.", "/two-factor")
}

// admins sets the rule for every administrator (administrators only).
func (h handlers) admins(c echo.Context) error {
	id := request.IdentityOf(c)
	if !id.IsAdmin() {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	if err := h.Tenants.SetAdminTwoFactorRequired(c.Request().Context(), id.Scope, c.FormValue("required") == "on"); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Saved.", "/two-factor")
}

func (h handlers) showRecovery(c echo.Context, codes []string) error {
	vm, err := h.page(c)
	if err != nil {
		return err
	}
	vm.Card.Recovery = codes
	c.Response().Header().Set("Cache-Control", "no-store")
	return request.Render(c, http.StatusOK, vtwofactor.TwoFactorPage(*vm))
}

// fail re-renders the page with the refusal at the card.
func (h handlers) fail(c echo.Context, err error) error {
	var errs map[string]string
	if !request.MergeErrors(&errs, err) {
		var le *tenants.LoginError
		switch {
		case errors.As(err, &le) && le.Reason == tenants.BadCredentials:
			errs = map[string]string{"code": "this code is not right, or was used before"}
		case errors.As(err, &le):
			errs = map[string]string{"code": le.Error()}
		default:
			return request.Status(err)
		}
	}
	vm, perr := h.page(c)
	if perr != nil {
		return perr
	}
	vm.Card.Errors = errs
	return request.Render(c, http.StatusUnprocessableEntity, vtwofactor.TwoFactorPage(*vm))
}

// qrDataURI draws an otpauth URI as a QR code in a data: URI (the panel's
// Content-Security-Policy allows data: images).
func qrDataURI(uri string) (string, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return "", err
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}
