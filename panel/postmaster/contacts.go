package postmaster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// maxGABRows bounds the GAB contacts one page lists.
const maxGABRows = 500

// contacts shows the domain's GAB and directory switches.
func (h handlers) contacts(c echo.Context) error {
	return h.renderContacts(c, http.StatusOK, nil, vpm.GABForm{}, nil)
}

func (h handlers) renderContacts(c echo.Context, status int, errs map[string]string, form vpm.GABForm, notes []string) error {
	d, name, err := h.domain(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	search := strings.TrimSpace(c.QueryParam("q"))
	cs, err := h.Tenants.GABContacts(ctx, sc, name, search, maxGABRows+1)
	if err != nil {
		return request.Status(err)
	}
	vm := vpm.ContactsPage{Page: h.Page(c, "Contacts of "+d.Name), Domain: d.Name, Base: domainHref(name) + "/contacts",
		Search: search, Errors: errs, Form: form, Import: notes}
	if len(cs) > maxGABRows {
		cs, vm.More = cs[:maxGABRows], true
	}
	for _, ct := range cs {
		vm.GAB = append(vm.GAB, vpm.GABRow{UID: ct.UID, Name: ct.FullName, Emails: strings.Join(ct.Emails, ", "),
			Phones: strings.Join(ct.Phones, ", "), Org: ct.Org, Title: ct.Title})
	}
	ms, _, err := h.Tenants.Mailboxes(ctx, sc, tenants.MailboxQuery{Domain: name, Limit: tenants.MaxDirectory * 5})
	if err != nil {
		return request.Status(err)
	}
	for _, m := range ms {
		vm.People = append(vm.People, vpm.DirectoryRow{Local: m.LocalPart, Address: m.Address, Name: m.FullName,
			InDirectory: m.InDirectory, MayEditGAB: m.MayEditGAB, Postmaster: m.Postmaster})
	}
	as, err := h.Tenants.Aliases(ctx, sc, name, address.Address{})
	if err != nil {
		return request.Status(err)
	}
	for _, a := range as {
		local, _, _ := cut(a.Address)
		vm.Aliases = append(vm.Aliases, vpm.DirectoryRow{Local: local, Address: a.Address, Name: a.Mailbox, InDirectory: a.InDirectory})
	}
	return request.Render(c, status, vpm.Contacts(vm))
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// gabFail re-renders the page with a validation error, or passes other
// errors on.
func (h handlers) gabFail(c echo.Context, err error, form vpm.GABForm) error {
	var ve *tenants.ValidationError
	if errors.As(err, &ve) {
		field := ve.Field
		if field == "vcard" || field == "uid" {
			field = ""
		}
		return h.renderContacts(c, http.StatusUnprocessableEntity, map[string]string{field: ve.Message}, form, nil)
	}
	return request.Status(err)
}

// gabAdd: POST /d/DOMAIN/contacts — a new GAB contact.
func (h handlers) gabAdd(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	form := vpm.GABForm{Name: c.FormValue("name"), Emails: c.FormValue("emails"), Phones: c.FormValue("phones"),
		Org: c.FormValue("org"), Title: c.FormValue("title")}
	card, err := tenants.ContactFields{FullName: form.Name, Emails: splitList(form.Emails), Phones: splitList(form.Phones),
		Org: form.Org, Title: form.Title}.Card()
	if err != nil {
		return h.gabFail(c, err, form)
	}
	if _, _, err := h.Tenants.PutGABContact(c.Request().Context(), request.IdentityOf(c).Scope, name, card); err != nil {
		return h.gabFail(c, err, form)
	}
	return h.Done(c, "Contact added to the global address book.", domainHref(name)+"/contacts")
}

// gabDelete: POST /d/DOMAIN/contacts/delete
func (h handlers) gabDelete(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	if err := h.Tenants.DeleteGABContact(c.Request().Context(), request.IdentityOf(c).Scope, name, c.FormValue("uid")); err != nil {
		return request.Status(err)
	}
	return h.Done(c, "Contact deleted from the global address book.", domainHref(name)+"/contacts")
}

// gabImport: POST /d/DOMAIN/contacts/import — a .vcf file, all or nothing.
func (h handlers) gabImport(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return h.renderContacts(c, http.StatusUnprocessableEntity, map[string]string{"file": "choose a .vcf file"}, vpm.GABForm{}, nil)
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	rep, err := h.Tenants.ImportGAB(c.Request().Context(), request.IdentityOf(c).Scope, name, io.Reader(f), c.FormValue("duplicates") == "yes")
	if err != nil {
		var ve *tenants.ValidationError
		if errors.As(err, &ve) {
			var notes []string
			if rep != nil {
				notes = rep.Errors
			}
			return h.renderContacts(c, http.StatusUnprocessableEntity, map[string]string{"file": ve.Message}, vpm.GABForm{}, notes)
		}
		return request.Status(err)
	}
	msg := fmt.Sprintf("%d contacts imported.", rep.Imported)
	if n := len(rep.Skipped); n > 0 {
		msg += fmt.Sprintf(" %d skipped: their address is in the book already.", n)
	}
	return h.Done(c, msg, domainHref(name)+"/contacts")
}

// gabExport: GET /d/DOMAIN/contacts.vcf or .csv — the GAB as vCards or CSV.
func (h handlers) gabExport(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	cs, err := h.Tenants.GABContacts(c.Request().Context(), request.IdentityOf(c).Scope, name, "", 0)
	if err != nil {
		return request.Status(err)
	}
	var buf bytes.Buffer
	if strings.HasSuffix(c.Path(), ".csv") {
		if err := tenants.ContactsCSV(&buf, cs); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name.String()+`-contacts.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	}
	for _, ct := range cs {
		buf.WriteString(ct.VCard)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name.String()+`-contacts.vcf"`)
	return c.Blob(http.StatusOK, "text/vcard; charset=utf-8", buf.Bytes())
}

// contactSwitches: POST /d/DOMAIN/contacts/switches — shows or hides the
// selected mailboxes and aliases in the directory, or lets the selected
// mailboxes edit the GAB or not.
func (h handlers) contactSwitches(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	form, err := c.FormParams()
	if err != nil {
		return echo.ErrBadRequest
	}
	action := c.FormValue("action")
	var u tenants.MailboxUpdate
	yes, no := true, false
	switch action {
	case "show":
		u.InDirectory = &yes
	case "hide":
		u.InDirectory = &no
	case "grant":
		u.MayEditGAB = &yes
	case "revoke":
		u.MayEditGAB = &no
	default:
		return echo.ErrBadRequest
	}
	n := 0
	for _, local := range form["mailbox"] {
		a, err := address.ParseAddress(local + "@" + name.String())
		if err != nil {
			return echo.ErrBadRequest
		}
		if _, err := h.Tenants.UpdateMailbox(ctx, sc, a, u); err != nil {
			return request.Status(err)
		}
		n++
	}
	if u.InDirectory != nil {
		for _, local := range form["alias"] {
			a, err := address.ParseAddress(local + "@" + name.String())
			if err != nil {
				return echo.ErrBadRequest
			}
			if err := h.Tenants.SetAliasDirectory(ctx, sc, a, *u.InDirectory); err != nil {
				return request.Status(err)
			}
			n++
		}
	}
	return h.Done(c, fmt.Sprintf("%d changed.", n), domainHref(name)+"/contacts")
}
