package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// ContactJSON is a contact of a domain's global address book.
type ContactJSON struct {
	UID        string   `json:"uid"`
	FullName   string   `json:"full_name"`
	FamilyName string   `json:"family_name"`
	GivenName  string   `json:"given_name"`
	Emails     []string `json:"emails"`
	Phones     []string `json:"phones"`
	Org        string   `json:"org"`
	Title      string   `json:"title"`
	ETag       string   `json:"etag"`
}

func contactJSON(c *tenants.Contact) ContactJSON {
	j := ContactJSON{UID: c.UID, FullName: c.FullName, FamilyName: c.FamilyName, GivenName: c.GivenName,
		Emails: c.Emails, Phones: c.Phones, Org: c.Org, Title: c.Title, ETag: c.ETag}
	if j.Emails == nil {
		j.Emails = []string{}
	}
	if j.Phones == nil {
		j.Phones = []string{}
	}
	return j
}

type contactBody struct {
	UID        string   `json:"uid"`
	FullName   string   `json:"full_name"`
	FamilyName string   `json:"family_name"`
	GivenName  string   `json:"given_name"`
	Emails     []string `json:"emails"`
	Phones     []string `json:"phones"`
	Org        string   `json:"org"`
	Title      string   `json:"title"`
	Note       string   `json:"note"`
}

// contactList: GET /domains/{domain}/contacts?search=&limit= — the
// domain's global address book.
func (h handlers) contactList(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	cs, err := h.Tenants.GABContacts(c.Request().Context(), scopeOf(c), d, c.QueryParam("search"), limit)
	if err != nil {
		return failErr(c, err)
	}
	out := make([]ContactJSON, 0, len(cs))
	for i := range cs {
		out = append(out, contactJSON(&cs[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": out, "total": len(out)})
}

// contactPut: POST /domains/{domain}/contacts — adds a contact, or
// replaces the one with the same uid (200 then, 201 for a new one).
func (h handlers) contactPut(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b contactBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	card, err := tenants.ContactFields(b).Card()
	if err != nil {
		return failErr(c, err)
	}
	ct, created, err := h.Tenants.PutGABContact(c.Request().Context(), scopeOf(c), d, card)
	if err != nil {
		return failErr(c, err)
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return c.JSON(code, contactJSON(ct))
}

// contactDelete: DELETE /domains/{domain}/contacts/{uid}
func (h handlers) contactDelete(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.DeleteGABContact(c.Request().Context(), scopeOf(c), d, c.Param("uid")); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
