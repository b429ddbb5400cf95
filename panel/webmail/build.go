package webmail

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/tenants/address"
)

// outgoing is a message written in webmail, to be sent or kept as a
// draft.
type outgoing struct {
	From        address.Address
	FromName    string
	To, Cc, Bcc []*mail.Address
	Subject     string
	Text        string
	InReplyTo   string   // message id without brackets
	References  []string // message ids without brackets
	Attachments []fileData
	Date        time.Time
	MessageID   string // made by buildBoth when empty
	// Draft keeps Bcc in the header, so that a resumed draft has it;
	// a sent message never shows its Bcc.
	Draft bool
}

// fileData is an attachment's content.
type fileData struct {
	Name string
	Type string
	Data []byte
}

// messageID makes a new Message-ID on the sender's domain.
func messageID(domain string) string {
	var b [15]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) + "@" + domain
}

// buildBoth writes the message as it leaves (a draft: as it is saved)
// and the copy kept in Sent, which shows its Bcc recipients to the sender
// alone; both have the same Message-ID.
func (o *outgoing) buildBoth() (msg, sentCopy []byte, err error) {
	if o.MessageID == "" {
		o.MessageID = messageID(o.From.Domain.String())
	}
	if msg, err = o.build(o.Draft); err != nil {
		return nil, nil, err
	}
	if o.Draft || len(o.Bcc) == 0 {
		return msg, msg, nil
	}
	sentCopy, err = o.build(true)
	return msg, sentCopy, err
}

// build writes the message as RFC 5322 bytes: a single text part, or
// multipart/mixed with the attachments.
func (o *outgoing) build(withBcc bool) ([]byte, error) {
	var h mail.Header
	h.SetDate(o.Date)
	from := &mail.Address{Name: o.FromName, Address: o.From.String()}
	h.SetAddressList("From", []*mail.Address{from})
	if len(o.To) > 0 {
		h.SetAddressList("To", o.To)
	}
	if len(o.Cc) > 0 {
		h.SetAddressList("Cc", o.Cc)
	}
	if withBcc && len(o.Bcc) > 0 {
		h.SetAddressList("Bcc", o.Bcc)
	}
	h.SetSubject(o.Subject)
	h.SetMessageID(o.MessageID)
	if o.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{o.InReplyTo})
	}
	if len(o.References) > 0 {
		h.SetMsgIDList("References", o.References)
	}
	h.Set("MIME-Version", "1.0")
	text := strings.ReplaceAll(strings.ReplaceAll(o.Text, "\r\n", "\n"), "\n", "\r\n")

	var buf bytes.Buffer
	textHeader := func(th *gomessage.Header) {
		th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		th.Set("Content-Transfer-Encoding", "quoted-printable")
	}
	if len(o.Attachments) == 0 {
		textHeader(&h.Header)
		w, err := gomessage.CreateWriter(&buf, h.Header)
		if err != nil {
			return nil, fmt.Errorf("write header: %w", err)
		}
		if _, err := io.WriteString(w, text); err != nil {
			return nil, fmt.Errorf("write text: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("write text: %w", err)
		}
		return buf.Bytes(), nil
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	var ih mail.InlineHeader
	textHeader(&ih.Header)
	tw, err := mw.CreateSingleInline(ih)
	if err != nil {
		return nil, fmt.Errorf("write text: %w", err)
	}
	if _, err := io.WriteString(tw, text); err != nil {
		return nil, fmt.Errorf("write text: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write text: %w", err)
	}
	for _, a := range o.Attachments {
		var ah mail.AttachmentHeader
		t := a.Type
		if _, _, err := mime.ParseMediaType(t); err != nil || t == "" {
			t = "application/octet-stream"
		}
		ah.SetContentType(t, map[string]string{"name": a.Name})
		ah.SetFilename(a.Name)
		ah.Set("Content-Transfer-Encoding", "base64")
		aw, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, fmt.Errorf("write attachment: %w", err)
		}
		if _, err := aw.Write(a.Data); err != nil {
			return nil, fmt.Errorf("write attachment: %w", err)
		}
		if err := aw.Close(); err != nil {
			return nil, fmt.Errorf("write attachment: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("write message: %w", err)
	}
	return buf.Bytes(), nil
}

// replySubject puts one prefix ("Re:" or "Fwd:") before a subject,
// dropping the same prefix where it is there already.
func replySubject(prefix, subject string) string {
	s := strings.TrimSpace(subject)
	for len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		s = strings.TrimSpace(s[len(prefix):])
	}
	return prefix + " " + s
}
