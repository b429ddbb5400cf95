package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

func (h handlers) domainUpdate(c echo.Context) error {
	name, err := request.DomainParam(c)
	if err != nil {
		return err
	}
	vm, err := h.domainPage(c, name)
	if err != nil {
		return err
	}
	f := vadmin.DomainForm{
		Description: c.FormValue("description"), Active: c.FormValue("active") == "on",
		MaxMailboxes: strings.TrimSpace(c.FormValue("max_mailboxes")), MaxAliases: strings.TrimSpace(c.FormValue("max_aliases")),
		DefaultQuota: strings.TrimSpace(c.FormValue("default_quota")), AliasOf: strings.TrimSpace(c.FormValue("alias_of")),
		MaxMailboxQuota: strings.TrimSpace(c.FormValue("max_mailbox_quota")), StorageTotal: strings.TrimSpace(c.FormValue("storage_total")),
		Postmaster: strings.TrimSpace(c.FormValue("postmaster")),
	}
	u, ferrs := parseDomainForm(f)
	if ferrs == nil {
		_, err = h.Tenants.UpdateDomain(c.Request().Context(), request.IdentityOf(c).Scope, name, u)
		if err != nil {
			var ok bool
			if ferrs, ok = request.FieldErrors(err); !ok {
				return request.Status(err)
			}
		}
	}
	if ferrs != nil {
		f.Errors = ferrs
		vm.Form = f
		return request.Render(c, http.StatusUnprocessableEntity, vadmin.Domain(*vm))
	}
	return h.Done(c, "Domain "+name.String()+" saved.", "/admin/domains/"+url.PathEscape(name.String()))
}

// parseDomainForm reads the form's fields into a DomainUpdate; the rules
// are tenants'.
func parseDomainForm(f vadmin.DomainForm) (tenants.DomainUpdate, map[string]string) {
	u := tenants.DomainUpdate{Description: &f.Description, Active: &f.Active}
	errs := map[string]string{}
	num := func(field, v string) *int64 {
		if v == "" {
			v = "0"
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs[field] = "give a whole number"
			return nil
		}
		return &n
	}
	u.MaxMailboxes = num("max_mailboxes", f.MaxMailboxes)
	u.MaxAliases = num("max_aliases", f.MaxAliases)
	size := func(field, v string) *int64 {
		if v == "" {
			v = "0"
		}
		n, err := tenants.ParseSize(v)
		if err != nil {
			errs[field] = err.Error()
			return nil
		}
		return &n
	}
	u.DefaultQuota = size("default_quota", f.DefaultQuota)
	u.MaxMailboxQuota = size("max_mailbox_quota", f.MaxMailboxQuota)
	u.StorageTotal = size("storage_total", f.StorageTotal)
	var aliasOf address.Domain
	if f.AliasOf != "" {
		d, err := address.ParseDomain(f.AliasOf)
		if err != nil {
			errs["alias_of"] = err.Error()
		}
		aliasOf = d
	}
	u.AliasOf = &aliasOf
	var pm address.Address
	if f.Postmaster != "" {
		a, err := address.ParseAddress(f.Postmaster)
		if err != nil {
			errs["postmaster"] = err.Error()
		}
		pm = a
	}
	u.Postmaster = &pm
	if len(errs) > 0 {
		return u, errs
	}
	return u, nil
}
