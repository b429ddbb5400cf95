package webmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/emersion/go-message/mail"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants/address"
	vwebmail "github.com/postdesk/postdesk/views/webmail"
)

// maxRecipients bounds the recipients of one message written here.
const maxRecipients = 100

// composeSubmit sends the message (action=send) through the submission
// path and keeps a copy in Sent, or saves it in Drafts (action=save),
// replacing the draft it was resumed from. A problem the user can fix
// shows the form again with their input and a message.
func (h handlers) composeSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	acct := accountOf(c)
	own, err := h.ownAddresses(c)
	if err != nil {
		return err
	}
	action := c.FormValue("action")
	if action != "send" && action != "save" {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	vm := vwebmail.ComposePage{
		Heading: "New message", To: c.FormValue("to"), Cc: c.FormValue("cc"), Bcc: c.FormValue("bcc"),
		Subject: c.FormValue("subject"), Body: c.FormValue("body"),
		InReplyTo: strings.TrimSpace(c.FormValue("in_reply_to")), References: strings.TrimSpace(c.FormValue("references")),
		Source: c.FormValue("source"), Draft: c.FormValue("draft"), Answering: c.FormValue("answering"),
		Errors: map[string]string{},
	}
	out := &outgoing{Subject: oneLine(vm.Subject), Text: vm.Body, Date: h.cfg.Now(), FromName: acct.id.Login.Mailbox.FullName}
	from := own[0]
	if a, err := address.ParseAddress(c.FormValue("from")); err == nil && contains(own, a) {
		from = a
	} else {
		vm.Errors["from"] = "Choose one of your own addresses."
	}
	out.From = from
	var rcpts []address.Address
	for _, f := range []struct {
		key  string
		dst  *[]*mail.Address
		text string
	}{{"to", &out.To, vm.To}, {"cc", &out.Cc, vm.Cc}, {"bcc", &out.Bcc, vm.Bcc}} {
		list, addrs, msg := parseRecipients(f.text)
		if msg != "" {
			vm.Errors[f.key] = msg
			continue
		}
		*f.dst = list
		rcpts = append(rcpts, addrs...)
	}
	rcpts = unique(rcpts)
	switch {
	case action == "send" && len(rcpts) == 0 && vm.Errors["to"] == "" && vm.Errors["cc"] == "" && vm.Errors["bcc"] == "":
		vm.Errors["to"] = "Give at least one recipient."
	case len(rcpts) > maxRecipients:
		vm.Errors["to"] = fmt.Sprintf("Send to at most %d recipients at once.", maxRecipients)
	}
	if vm.InReplyTo != "" && !validMsgID(vm.InReplyTo) {
		vm.InReplyTo = ""
	}
	out.InReplyTo = vm.InReplyTo
	for _, id := range strings.Fields(vm.References) {
		if validMsgID(id) && len(out.References) < 50 {
			out.References = append(out.References, id)
		}
	}

	// Attachments: those kept from the source message, then the uploads.
	kept, keptInfo, err := h.keptAttachments(c, acct, vm.Source, c.Request().Form["keep"])
	if err != nil {
		return err
	}
	vm.Kept = keptInfo
	out.Attachments = kept
	uploaded := false
	total := int64(len(vm.Body))
	for _, a := range kept {
		total += int64(len(a.Data))
	}
	if form, err := c.MultipartForm(); err == nil {
		for _, fh := range form.File["files"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue // the empty file input
			}
			uploaded = true
			total += fh.Size
			if total > h.cfg.MaxMessageBytes {
				break
			}
			fd, err := readUpload(fh)
			if err != nil {
				return err
			}
			out.Attachments = append(out.Attachments, fd)
		}
	}
	limit := humanize.IBytes(uint64(h.cfg.MaxMessageBytes))
	if total > h.cfg.MaxMessageBytes {
		vm.Errors["files"] = "The attachments are larger than the limit of " + limit + "."
	}
	var msg, sentCopy []byte
	if len(vm.Errors) == 0 {
		out.Draft = action == "save"
		if msg, sentCopy, err = out.buildBoth(); err != nil {
			return err
		}
		if int64(len(msg)) > h.cfg.MaxMessageBytes {
			vm.Errors["files"] = "With its attachments encoded the message has " + humanize.IBytes(uint64(len(msg))) +
				", over the limit of " + limit + "."
		}
	}
	if len(vm.Errors) > 0 {
		if uploaded {
			vm.Errors[""] = "Nothing was sent or saved; please attach your files again."
		}
		return h.renderCompose(c, http.StatusUnprocessableEntity, vm, own, from)
	}

	folders, err := h.foldersForChange(ctx, acct)
	if err != nil {
		return err
	}
	oldDraft := func() {
		fid, uid, ok := parseRef(vm.Draft)
		if d := special(folders, UseDrafts); ok && d != nil && d.ID == fid {
			if err := h.mail.Remove(ctx, acct.mailboxID, fid, []uint32{uid}); err != nil && !errors.Is(err, ErrNotFound) {
				h.Log.WarnContext(ctx, "remove replaced draft", "err", err)
			}
		}
	}
	if action == "save" {
		drafts := special(folders, UseDrafts)
		if drafts == nil {
			return fmt.Errorf("mailbox %d has no Drafts folder", acct.mailboxID)
		}
		uid, err := h.mail.Append(ctx, acct.mailboxID, acct.quota, drafts.ID, bytes.NewReader(msg), []Flag{FlagDraft, FlagSeen})
		if err != nil {
			if m, ok := userMessage(err, acct.quota); ok {
				vm.Errors[""] = m
				if errors.Is(err, ErrOverQuota) {
					vm.Errors[""] = "Your mailbox is full: the draft was not saved. Delete some messages and empty Trash, then save again."
				}
				return h.renderCompose(c, http.StatusUnprocessableEntity, vm, own, from)
			}
			return mailError(err)
		}
		oldDraft()
		return h.Done(c, "Draft saved.", "/webmail/compose?draft="+ref(drafts.ID, uid))
	}

	if err := h.mail.Submit(ctx, acct.id.Login, request.ClientOf(c).Addr, from, rcpts, msg); err != nil {
		if m, ok := userMessage(err, acct.quota); ok {
			vm.Errors[""] = "Not sent: " + m
			if uploaded {
				vm.Errors[""] += " Please attach your files again."
			}
			return h.renderCompose(c, http.StatusUnprocessableEntity, vm, own, from)
		}
		return err
	}
	h.Log.InfoContext(ctx, "webmail message sent", "login", acct.id.Login.Address.String(), "from", from.String(), "rcpts", len(rcpts), "bytes", len(msg))
	done := "Message sent."
	if sent := special(folders, UseSent); sent != nil {
		if _, err := h.mail.Append(ctx, acct.mailboxID, acct.quota, sent.ID, bytes.NewReader(sentCopy), []Flag{FlagSeen}); err != nil {
			if !errors.Is(err, ErrOverQuota) && !errors.Is(err, ErrTooBig) {
				h.Log.ErrorContext(ctx, "keep a copy in Sent", "err", err)
			}
			done = "Message sent, but no copy was kept in Sent: your mailbox is full."
		}
	}
	oldDraft()
	if fid, uid, ok := parseRef(vm.Answering); ok {
		if err := h.mail.SetFlags(ctx, acct.mailboxID, fid, []uint32{uid}, []Flag{FlagAnswered}, true); err != nil && !errors.Is(err, ErrNotFound) {
			h.Log.WarnContext(ctx, "mark answered", "err", err)
		}
	}
	to := "/webmail/compose"
	if in := inboxOf(folders); in != nil {
		to = folderHref(in.ID)
	}
	return h.Done(c, done, to)
}

// keptAttachments reads the attachments the form keeps from its source
// message (a forwarded message or a resumed draft), which must be the
// user's own.
func (h handlers) keptAttachments(c echo.Context, acct account, source string, keep []string) ([]fileData, []vwebmail.KeptAttachment, error) {
	fid, uid, ok := parseRef(source)
	if !ok {
		return nil, nil, nil
	}
	want := map[int]bool{}
	for _, k := range keep {
		if n, err := strconv.Atoi(k); err == nil && n > 0 {
			want[n] = true
		}
	}
	var files []fileData
	var info []vwebmail.KeptAttachment
	var total int64
	_, err := walkMessage(c.Request().Context(), h.walker(c.Request().Context(), acct, fid, uid), func(l *leaf, body io.Reader) error {
		if !l.attachment() {
			return nil
		}
		name := fileName(l)
		if !want[l.N] {
			n, _ := io.Copy(io.Discard, decodedBody(l, body))
			info = append(info, vwebmail.KeptAttachment{Value: itoa(l.N), Name: name, Size: size(n)})
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(decodedBody(l, body), h.cfg.MaxMessageBytes-total+1))
		if err != nil && !isDecodeError(err) {
			return fmt.Errorf("read attachment %d: %w", l.N, err)
		}
		total += int64(len(data))
		info = append(info, vwebmail.KeptAttachment{Value: itoa(l.N), Name: name, Size: size(int64(len(data))), Checked: true})
		files = append(files, fileData{Name: name, Type: l.Type, Data: data})
		return nil
	})
	if err != nil && !errors.Is(err, ErrMIMELimit) {
		return nil, nil, err
	}
	return files, info, nil
}

// readUpload reads one uploaded file.
func readUpload(fh *multipart.FileHeader) (fileData, error) {
	f, err := fh.Open()
	if err != nil {
		return fileData{}, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return fileData{}, fmt.Errorf("read upload: %w", err)
	}
	name := safeFileName(fh.Filename)
	if name == "" {
		name = "attachment"
	}
	t := fh.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(t); err == nil && strings.Contains(mt, "/") {
		t = mt
	} else if t = mime.TypeByExtension(filepath.Ext(name)); t == "" {
		t = "application/octet-stream"
	}
	return fileData{Name: name, Type: t, Data: data}, nil
}

// parseRecipients reads a recipient field: addresses separated by commas
// or semicolons, with or without names. msg says what is wrong, if
// anything.
func parseRecipients(s string) (list []*mail.Address, addrs []address.Address, msg string) {
	s = strings.TrimSpace(strings.NewReplacer(";", ",", "\r", " ", "\n", " ").Replace(s))
	s = strings.Trim(s, ", ")
	if s == "" {
		return nil, nil, ""
	}
	for _, part := range splitAddresses(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, err := mail.ParseAddress(part)
		if err != nil {
			return nil, nil, fmt.Sprintf("%q is not an address such as name@example.com.", part)
		}
		p, err := address.ParseAddress(a.Address)
		if err != nil {
			return nil, nil, fmt.Sprintf("%q: %v.", part, err)
		}
		list = append(list, &mail.Address{Name: a.Name, Address: p.String()})
		addrs = append(addrs, p)
	}
	return list, addrs, ""
}

// splitAddresses splits at commas outside quotes and angle brackets.
func splitAddresses(s string) []string {
	var out []string
	quoted, angle, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case '<':
			angle = !quoted
		case '>':
			angle = false
		case ',':
			if !quoted && !angle {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// validMsgID accepts a message id (without brackets) as In-Reply-To and
// References carry them: id-left@id-right, no spaces or brackets.
func validMsgID(s string) bool {
	if len(s) > 250 || !strings.Contains(s, "@") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == ',' {
			return false
		}
	}
	return true
}

// oneLine makes a header value of a form field: no line breaks.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " "))
}

func contains(list []address.Address, a address.Address) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func unique(list []address.Address) []address.Address {
	seen := map[address.Address]bool{}
	out := list[:0]
	for _, a := range list {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
