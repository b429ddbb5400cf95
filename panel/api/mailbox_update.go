package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

type mailboxPatchBody struct {
	FullName           *string   `json:"full_name"`
	Password           *string   `json:"password"`
	QuotaBytes         *int64    `json:"quota_bytes"`
	Active             *bool     `json:"active"`
	StoreMail          *bool     `json:"store_mail"`
	MaySend            *bool     `json:"may_send"`
	MayResponder       *bool     `json:"may_responder"`
	MayForward         *bool     `json:"may_forward"`
	Webmail            *bool     `json:"webmail"`
	Postmaster         *bool     `json:"postmaster"`
	InDirectory        *bool     `json:"in_directory"`
	MayEditGAB         *bool     `json:"may_edit_gab"`
	ExpiresAt          optString `json:"expires_at"`
	ExpireInactiveDays *int64    `json:"expire_inactive_days"`
	ExpireAfterDays    *int64    `json:"expire_after_days"`
	SignInOff          *bool     `json:"sign_in_off"`
}

// mailboxUpdate: PATCH /domains/{domain}/mailboxes/{local_part} — only
// the fields given change; "expires_at": null clears the expiry.
func (h handlers) mailboxUpdate(c echo.Context) error {
	a, ok := addressParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b mailboxPatchBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	u := tenants.MailboxUpdate{
		FullName: b.FullName, Password: b.Password, QuotaBytes: b.QuotaBytes, Active: b.Active, StoreMail: b.StoreMail,
		MaySend: b.MaySend, MayResponder: b.MayResponder, MayForward: b.MayForward, Webmail: b.Webmail,
		Postmaster: b.Postmaster, InDirectory: b.InDirectory, MayEditGAB: b.MayEditGAB, ExpireInactiveDays: b.ExpireInactiveDays, ExpireAfterDays: b.ExpireAfterDays, SignInOff: b.SignInOff,
	}
	if b.ExpiresAt.Set {
		t, err := parseTime("expires_at", b.ExpiresAt.Value)
		if err != nil {
			return failErr(c, err)
		}
		u.ExpiresAt, u.ClearExpiry = t, t == nil
	}
	m, err := h.Tenants.UpdateMailbox(c.Request().Context(), scopeOf(c), a, u)
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusOK, mailboxJSON(m, a.Domain.String()))
}
