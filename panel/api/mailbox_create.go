package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

type mailboxCreateBody struct {
	LocalPart  string `json:"local_part"`
	Password   string `json:"password"`
	FullName   string `json:"full_name"`
	QuotaBytes int64  `json:"quota_bytes"`
	StoreMail  *bool  `json:"store_mail"`
}

// mailboxCreate: POST /domains/{domain}/mailboxes; only local_part and
// password are required, the rest takes the defaults.
func (h handlers) mailboxCreate(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b mailboxCreateBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	if b.LocalPart == "" {
		return fail(c, http.StatusUnprocessableEntity, "local_part is required", "local_part")
	}
	lp, err := address.ParseLocalpart(b.LocalPart)
	if err != nil {
		return fail(c, http.StatusUnprocessableEntity, err.Error(), "local_part")
	}
	st := tenants.DefaultMailboxSettings()
	st.QuotaBytes = b.QuotaBytes
	if b.StoreMail != nil {
		st.StoreMail = *b.StoreMail
	}
	a := address.Address{Local: lp, Domain: d}
	m, err := h.Tenants.CreateMailbox(c.Request().Context(), scopeOf(c), tenants.NewMailbox{Address: a, Password: b.Password, FullName: b.FullName, Settings: st})
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusCreated, mailboxJSON(m, d.String()))
}
