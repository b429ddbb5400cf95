package webmail

import (
	"net/http"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/emersion/go-message/mail"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// composeForm shows the form to write a message: new (to= fills the
// recipient), a reply to one sender or to all, a forward with the
// original's attachments, or a draft resumed.
func (h handlers) composeForm(c echo.Context) error {
	acct := accountOf(c)
	own, err := h.ownAddresses(c)
	if err != nil {
		return err
	}
	vm := vwebmail.ComposePage{Heading: "New message", To: strings.TrimSpace(c.QueryParam("to"))}
	mode, raw := "", ""
	for _, m := range []string{"reply", "replyall", "forward", "draft"} {
		if v := c.QueryParam(m); v != "" {
			mode, raw = m, v
			break
		}
	}
	from := own[0]
	if mode != "" {
		fid, uid, ok := parseRef(raw)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		pm, err := h.parseMessage(c, acct, fid, uid, false)
		if err != nil {
			return err
		}
		hd := pm.Header
		subject, _ := hd.Subject()
		msgID, _ := hd.MessageID()
		refs, _ := hd.MsgIDList("References")
		r := ref(fid, uid)
		if a := ownRecipient(hd, own); !a.IsZero() {
			from = a
		}
		switch mode {
		case "reply", "replyall":
			vm.Heading = "Reply"
			to := addressList(hd, "Reply-To")
			if len(to) == 0 {
				to = addressList(hd, "From")
			}
			vm.To = formatList(to)
			if mode == "replyall" {
				vm.Heading = "Reply to all"
				seen := map[string]bool{}
				for _, a := range to {
					seen[strings.ToLower(a.Address)] = true
				}
				for _, o := range own {
					seen[strings.ToLower(o.String())] = true
				}
				var cc []*mail.Address
				for _, a := range append(addressList(hd, "To"), addressList(hd, "Cc")...) {
					if k := strings.ToLower(a.Address); !seen[k] {
						seen[k] = true
						cc = append(cc, a)
					}
				}
				vm.Cc = formatList(cc)
			}
			vm.Subject = replySubject("Re:", subject)
			vm.Body = "\n\nOn " + writtenOn(hd) + ", " + addressLine(hd, "From") + " wrote:\n" + quote(pm.Text)
			if msgID != "" {
				vm.InReplyTo = msgID
				vm.References = strings.Join(append(refs, msgID), " ")
			}
			vm.Answering = r
		case "forward":
			vm.Heading = "Forward"
			vm.Subject = replySubject("Fwd:", subject)
			vm.Body = "\n\n---------- Forwarded message ----------\nFrom: " + addressLine(hd, "From") +
				"\nDate: " + writtenOn(hd) + "\nSubject: " + subject + "\nTo: " + addressLine(hd, "To") + "\n"
			if cc := addressLine(hd, "Cc"); cc != "" {
				vm.Body += "Cc: " + cc + "\n"
			}
			vm.Body += "\n" + pm.Text
			vm.Source = r
			for _, a := range pm.Attachments {
				vm.Kept = append(vm.Kept, vwebmail.KeptAttachment{Value: itoa(a.N), Name: a.Name, Size: size(a.Size), Checked: true})
			}
		case "draft":
			vm.Heading = "Draft"
			vm.To, vm.Cc, vm.Bcc = formatList(addressList(hd, "To")), formatList(addressList(hd, "Cc")), formatList(addressList(hd, "Bcc"))
			vm.Subject, vm.Body = subject, pm.Text
			if irt, _ := hd.MsgIDList("In-Reply-To"); len(irt) > 0 {
				vm.InReplyTo = irt[0]
			}
			vm.References = strings.Join(refs, " ")
			vm.Source, vm.Draft = r, r
			if fl := addressList(hd, "From"); len(fl) > 0 {
				if a, err := address.ParseAddress(fl[0].Address); err == nil {
					from = a
				}
			}
			for _, a := range pm.Attachments {
				vm.Kept = append(vm.Kept, vwebmail.KeptAttachment{Value: itoa(a.N), Name: a.Name, Size: size(a.Size), Checked: true})
			}
		}
	}
	return h.renderCompose(c, http.StatusOK, vm, own, from)
}

// renderCompose fills in what every compose page has (frame, From
// choices, directory, size limit) and shows it.
func (h handlers) renderCompose(c echo.Context, status int, vm vwebmail.ComposePage, own []address.Address, from address.Address) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	folders, err := h.mail.Folders(ctx, acct.mailboxID)
	if err != nil {
		return err
	}
	if vm.Frame, err = h.frame(c, acct, folders, 0, vm.Heading); err != nil {
		return err
	}
	vm.CSRFToken = acct.id.CSRF
	vm.MaxSize = humanize.IBytes(uint64(h.cfg.MaxMessageBytes))
	name := acct.id.Login.Mailbox.FullName
	for _, a := range own {
		label := a.Unicode()
		if name != "" {
			label = name + " <" + label + ">"
		}
		vm.From = append(vm.From, vwebmail.Option{Value: a.String(), Label: label, Selected: a == from})
	}
	dir, err := h.Tenants.AddressCompletion(ctx, acct.id.Login, "", tenants.MaxDirectory)
	if err != nil {
		return err
	}
	for _, d := range dir {
		vm.Directory = append(vm.Directory, directoryOption(d))
	}
	return request.Render(c, status, vwebmail.Compose(vm))
}

// directoryOption is a directory entry as an address a recipient field
// takes.
func directoryOption(d tenants.DirectoryEntry) vwebmail.Option {
	return vwebmail.Option{Value: displayAddress(d.Name, d.Address), Label: d.Name}
}

// ownAddresses are the addresses the user may send as, their own first.
func (h handlers) ownAddresses(c echo.Context) ([]address.Address, error) {
	id := request.IdentityOf(c)
	own, err := h.Tenants.Addresses(c.Request().Context(), id.Self, id.Login.Mailbox)
	if err != nil {
		return nil, request.Status(err)
	}
	if len(own) == 0 {
		own = []address.Address{id.Login.Address}
	}
	return own, nil
}

// ownRecipient finds the first of the user's addresses a message was
// sent to, the natural From of a reply.
func ownRecipient(h mail.Header, own []address.Address) address.Address {
	set := map[address.Address]bool{}
	for _, o := range own {
		set[o] = true
	}
	for _, key := range []string{"To", "Cc", "Delivered-To"} {
		for _, a := range addressList(h, key) {
			if p, err := address.ParseAddress(a.Address); err == nil && set[p] {
				return p
			}
		}
	}
	return address.Address{}
}

// addressList reads an address header; nothing when it does not parse.
func addressList(h mail.Header, key string) []*mail.Address {
	l, err := h.AddressList(key)
	if err != nil {
		return nil
	}
	return l
}

// formatList writes addresses for a recipient field.
func formatList(l []*mail.Address) string {
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = displayAddress(a.Name, a.Address)
	}
	return strings.Join(parts, ", ")
}

// displayAddress writes "Name <address>" as a person reads it and a
// recipient field parses it back: the name in quotes unless it is plain
// words, UTF-8 as it is (RFC 6532).
func displayAddress(name, addr string) string {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return addr
	}
	plain := true
	for _, r := range name {
		if !(r == ' ' || r >= 0x80 || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)) {
			plain = false
		}
	}
	if !plain {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + addr + ">"
}

// writtenOn is a message's date as a reply's attribution line says it.
func writtenOn(h mail.Header) string {
	if d, err := h.Date(); err == nil && !d.IsZero() {
		return d.Format("Mon, 2 Jan 2006 at 15:04 -0700")
	}
	return "an unknown date"
}
