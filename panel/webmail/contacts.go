package webmail

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// maxContactRows bounds the contacts one page lists.
const maxContactRows = 500

func contactsHref(slug string) string { return "/webmail/contacts?book=" + url.QueryEscape(slug) }

// contacts shows the Contacts page: a book (?book=SLUG, the first by
// default) or a search across every book the user reads (?q=).
func (h handlers) contacts(c echo.Context) error {
	return h.renderContacts(c, http.StatusOK, c.QueryParam("book"), c.QueryParam("q"), nil, vwebmail.ContactForm{})
}

func (h handlers) renderContacts(c echo.Context, status int, slug, q string, errs map[string]string, form vwebmail.ContactForm) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	l := acct.id.Login
	books, err := h.Tenants.ContactBooks(ctx, l)
	if err != nil {
		return err
	}
	q = strings.TrimSpace(q)
	if slug == "" && q == "" {
		slug = books[0].Slug
	}
	folders, err := h.mail.Folders(ctx, acct.mailboxID)
	if err != nil {
		return err
	}
	frame, err := h.frame(c, acct, folders, 0, "Contacts")
	if err != nil {
		return err
	}
	vm := vwebmail.ContactsPage{Frame: frame, CSRFToken: acct.id.CSRF, Query: q, Errors: errs, Form: form}
	var cur *tenants.ContactBook
	for i, b := range books {
		link := vwebmail.BookLink{Slug: b.Slug, Name: b.Name, Kind: string(b.Kind), Href: contactsHref(b.Slug),
			Writable: b.Writable, Own: b.Kind == tenants.BookPersonal, Current: q == "" && b.Slug == slug}
		if link.Current {
			vm.Book, cur = link, &books[i]
		}
		vm.Books = append(vm.Books, link)
	}
	for _, b := range books {
		if b.Writable && b.Slug != slug {
			vm.CopyTargets = append(vm.CopyTargets, vwebmail.Option{Value: b.Slug, Label: b.Name})
		}
	}
	row := func(b tenants.ContactBook, ct tenants.Contact) vwebmail.ContactRow {
		r := vwebmail.ContactRow{Name: ct.FullName, Emails: strings.Join(ct.Emails, ", "), Phones: strings.Join(ct.Phones, ", "),
			Org: ct.Org, Book: b.Name, Href: ct.Href, CanEdit: b.Writable && q == ""}
		if len(ct.Emails) > 0 {
			r.WriteTo = "/webmail/compose?to=" + url.QueryEscape(displayAddress(ct.FullName, ct.Emails[0]))
		}
		return r
	}
	if q != "" {
		found, more, err := h.Tenants.SearchContacts(ctx, l, q, maxContactRows)
		if err != nil {
			return err
		}
		for _, f := range found {
			vm.Rows = append(vm.Rows, row(f.Book, f.Contact))
		}
		vm.More = more
		return request.Render(c, status, vwebmail.Contacts(vm))
	}
	if cur == nil {
		return echo.ErrNotFound
	}
	cs, err := h.Tenants.ListContacts(ctx, l, cur.Slug)
	if err != nil {
		return err
	}
	if len(cs) > maxContactRows {
		cs, vm.More = cs[:maxContactRows], true
	}
	for _, ct := range cs {
		vm.Rows = append(vm.Rows, row(*cur, ct))
	}
	if cur.Kind == tenants.BookPersonal {
		shares, domainRead, err := h.Tenants.BookShares(ctx, l, cur.Slug)
		if err != nil && !errors.Is(err, tenants.ErrNotFound) { // Contacts not made yet: no shares
			return err
		}
		for _, s := range shares {
			vm.Shares = append(vm.Shares, vwebmail.ShareRow{Address: s.Address, MayWrite: s.MayWrite})
		}
		vm.DomainRead = domainRead
	}
	return request.Render(c, status, vwebmail.Contacts(vm))
}

// contactFail re-renders the page with a validation error, or passes
// other errors on (not found: 404).
func (h handlers) contactFail(c echo.Context, slug string, err error, form vwebmail.ContactForm) error {
	var ve *tenants.ValidationError
	switch {
	case errors.As(err, &ve):
		field := ve.Field
		if field == "vcard" || field == "uid" {
			field = ""
		}
		return h.renderContacts(c, http.StatusUnprocessableEntity, slug, "", map[string]string{field: ve.Message}, form)
	case errors.Is(err, tenants.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, tenants.ErrForbidden):
		return echo.ErrForbidden
	}
	return err
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

// contactAdd: POST /webmail/contacts/add — a new contact in a book the
// user may write.
func (h handlers) contactAdd(c echo.Context) error {
	slug := c.FormValue("book")
	form := vwebmail.ContactForm{Name: c.FormValue("name"), Emails: c.FormValue("emails"), Phones: c.FormValue("phones"),
		Org: c.FormValue("org"), Title: c.FormValue("title")}
	card, err := tenants.ContactFields{FullName: form.Name, Emails: splitList(form.Emails), Phones: splitList(form.Phones),
		Org: form.Org, Title: form.Title}.Card()
	if err != nil {
		return h.contactFail(c, slug, err, form)
	}
	uid := card.Value("UID")
	href := strings.TrimPrefix(uid, "urn:uuid:") + ".vcf"
	if _, _, err := h.Tenants.PutContact(c.Request().Context(), accountOf(c).id.Login, slug, href, card, tenants.PutCondition{IfNoneMatch: true}); err != nil {
		return h.contactFail(c, slug, err, form)
	}
	return h.Done(c, "Contact added.", contactsHref(slug))
}

// contactDelete: POST /webmail/contacts/delete
func (h handlers) contactDelete(c echo.Context) error {
	slug := c.FormValue("book")
	if err := h.Tenants.DeleteContact(c.Request().Context(), accountOf(c).id.Login, slug, c.FormValue("href"), ""); err != nil {
		return h.contactFail(c, slug, err, vwebmail.ContactForm{})
	}
	return h.Done(c, "Contact deleted.", contactsHref(slug))
}

// bookCreate: POST /webmail/contacts/books — a new own address book.
func (h handlers) bookCreate(c echo.Context) error {
	b, err := h.Tenants.CreateBook(c.Request().Context(), accountOf(c).id.Login, c.FormValue("name"))
	if err != nil {
		return h.contactFail(c, "", err, vwebmail.ContactForm{})
	}
	return h.Done(c, "Address book "+b.Name+" created.", contactsHref(b.Slug))
}

func (h handlers) shareAddress(c echo.Context) (address.Address, error) {
	a, err := address.ParseAddress(strings.TrimSpace(c.FormValue("address")))
	if err != nil {
		return address.Address{}, &tenants.ValidationError{Field: "address", Message: "give an address of your domain"}
	}
	return a, nil
}

// bookShare: POST /webmail/contacts/share — shares an own book with a
// user of the same domain.
func (h handlers) bookShare(c echo.Context) error {
	slug := c.FormValue("book")
	a, err := h.shareAddress(c)
	if err == nil {
		err = h.Tenants.ShareBook(c.Request().Context(), accountOf(c).id.Login, slug, a, c.FormValue("write") == "yes")
	}
	if err != nil {
		return h.contactFail(c, slug, err, vwebmail.ContactForm{})
	}
	return h.Done(c, "Shared with "+a.String()+".", contactsHref(slug))
}

// bookUnshare: POST /webmail/contacts/unshare
func (h handlers) bookUnshare(c echo.Context) error {
	slug := c.FormValue("book")
	a, err := h.shareAddress(c)
	if err == nil {
		err = h.Tenants.UnshareBook(c.Request().Context(), accountOf(c).id.Login, slug, a)
	}
	if err != nil {
		return h.contactFail(c, slug, err, vwebmail.ContactForm{})
	}
	return h.Done(c, "No longer shared with "+a.String()+".", contactsHref(slug))
}

// bookDomainRead: POST /webmail/contacts/domain-read — lets the whole
// domain read an own book, or stops it.
func (h handlers) bookDomainRead(c echo.Context) error {
	slug := c.FormValue("book")
	on := c.FormValue("on") == "yes"
	if err := h.Tenants.SetBookDomainRead(c.Request().Context(), accountOf(c).id.Login, slug, on); err != nil {
		return h.contactFail(c, slug, err, vwebmail.ContactForm{})
	}
	msg := "Everyone of your domain may read it now."
	if !on {
		msg = "Only those you share it with see it now."
	}
	return h.Done(c, msg, contactsHref(slug))
}

// contactsExport: GET /webmail/contacts/export?book=SLUG&format=vcf|csv —
// any book the user reads, as vCards or CSV.
func (h handlers) contactsExport(c echo.Context) error {
	slug := c.QueryParam("book")
	cs, err := h.Tenants.ListContacts(c.Request().Context(), accountOf(c).id.Login, slug)
	if err != nil {
		return h.contactFail(c, slug, err, vwebmail.ContactForm{})
	}
	var buf bytes.Buffer
	name, ctype := "contacts.vcf", "text/vcard; charset=utf-8"
	if c.QueryParam("format") == "csv" {
		name, ctype = "contacts.csv", "text/csv; charset=utf-8"
		if err := tenants.ContactsCSV(&buf, cs); err != nil {
			return err
		}
	} else {
		for _, ct := range cs {
			buf.WriteString(ct.VCard)
		}
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// contactCopy: POST /webmail/contacts/copy — copies (or with move=yes
// moves) a contact into another book the user may write.
func (h handlers) contactCopy(c echo.Context) error {
	slug, to := c.FormValue("book"), c.FormValue("to")
	move := c.FormValue("move") == "yes"
	if err := h.Tenants.CopyContact(c.Request().Context(), accountOf(c).id.Login, slug, c.FormValue("href"), to, move); err != nil {
		if errors.Is(err, tenants.ErrUIDConflict) {
			err = &tenants.ValidationError{Message: "that book has this contact already"}
		}
		return h.contactFail(c, slug, err, vwebmail.ContactForm{})
	}
	msg := "Contact copied."
	if move {
		msg = "Contact moved."
	}
	return h.Done(c, msg, contactsHref(to))
}
