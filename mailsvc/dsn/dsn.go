// Package dsn composes and parses delivery status notifications (RFC 3464):
// a multipart/report; report-type=delivery-status message (RFC 6522) with a
// human-readable part, a message/delivery-status part (one per-message
// block, then one block per recipient) and the original message or its
// header.
package dsn

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message"
)

// Action is a recipient's action field (RFC 3464 2.3.3).
type Action string

// Actions.
const (
	Failed    Action = "failed"
	Delayed   Action = "delayed"
	Delivered Action = "delivered"
	Relayed   Action = "relayed"
	Expanded  Action = "expanded"
)

// Recipient is one per-recipient block.
type Recipient struct {
	// FinalRecipient is the address the attempt was made to.
	FinalRecipient string
	// OriginalRecipient is the address as first given, when known.
	OriginalRecipient string
	Action            Action
	// Status is the enhanced status code, "5.1.1" (RFC 3463).
	Status string
	// RemoteMTA is the host that gave the reply, a DNS name or IP.
	RemoteMTA string
	// Diagnostic is the remote reply ("550 5.1.1 no such user"), written
	// as Diagnostic-Code: smtp; ..., or this server's own reason with
	// DiagnosticType "X-Postdesk".
	Diagnostic      string
	DiagnosticType  string // default "smtp"
	LastAttemptDate time.Time
	WillRetryUntil  time.Time
}

// Notice is a DSN to compose.
type Notice struct {
	// ReportingMTA is this server's host name.
	ReportingMTA string
	// From is the header sender, e.g. MAILER-DAEMON@host; the envelope
	// sender of a DSN is always null (RFC 3464 2, RFC 5321 4.5.5).
	From string
	// To is the header recipient: the original message's sender.
	To string
	// Subject; a default one is used when empty.
	Subject string
	Date    time.Time
	// MessageID of the notice, without angle brackets; made when empty.
	MessageID string
	// ArrivalDate is when the original message was accepted.
	ArrivalDate time.Time
	// Explanation is the human-readable text; one is made from the
	// recipients when empty.
	Explanation string
	Recipients  []Recipient
	// HeadersOnly returns only the original's header
	// (text/rfc822-headers) instead of the whole message.
	HeadersOnly bool
}

// maxHeader bounds the original header read for a headers-only notice.
const maxHeader = 256 << 10

// Write writes the notice, with original (the returned message: header and
// body) as its third part, as a message with CRLF line ends.
func Write(w io.Writer, n *Notice, original io.Reader) error {
	if len(n.Recipients) == 0 {
		return errors.New("compose dsn: no recipients")
	}
	date := n.Date
	if date.IsZero() {
		date = time.Now()
	}
	msgID := n.MessageID
	if msgID == "" {
		msgID = newMessageID(n.ReportingMTA)
	}
	subject := n.Subject
	if subject == "" {
		subject = defaultSubject(n.Recipients)
	}
	// go-message puts each new field on top: set them bottom up.
	var h message.Header
	h.SetContentType("multipart/report", map[string]string{"report-type": "delivery-status"})
	h.Set("MIME-Version", "1.0")
	// RFC 3834 5: machine-generated replies say so, which keeps
	// responders from answering them.
	h.Set("Auto-Submitted", "auto-replied")
	h.Set("Message-ID", "<"+msgID+">")
	h.Set("Date", date.Format(time.RFC1123Z))
	h.Set("Subject", mime.QEncoding.Encode("utf-8", subject))
	h.Set("To", "<"+n.To+">")
	h.Set("From", headerAddress("Mail Delivery System", n.From))

	mw, err := message.CreateWriter(w, h)
	if err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	var th message.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := mw.CreatePart(th)
	if err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	text := n.Explanation
	if text == "" {
		text = explain(n)
	}
	if _, err := io.WriteString(pw, crlf(text)); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}

	var sh message.Header
	sh.SetContentType("message/delivery-status", nil)
	pw, err = mw.CreatePart(sh)
	if err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	if _, err := io.WriteString(pw, statusFields(n)); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}

	if original != nil {
		if err := writeOriginal(mw, original, n.HeadersOnly); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	return nil
}

// writeOriginal writes the returned message: all of it as message/rfc822,
// or its header as text/rfc822-headers. A message with 8-bit bytes is
// marked 8bit, the only encodings message/rfc822 allows besides 7bit and
// binary (RFC 2046 5.2.1).
func writeOriginal(mw *message.Writer, original io.Reader, headersOnly bool) error {
	var body []byte
	var err error
	if headersOnly {
		body, err = readHeader(original)
	} else {
		body, err = io.ReadAll(original)
	}
	if err != nil {
		return fmt.Errorf("read original message: %w", err)
	}
	var oh message.Header
	if headersOnly {
		oh.SetContentType("text/rfc822-headers", nil)
	} else {
		oh.SetContentType("message/rfc822", nil)
	}
	if has8bit(body) {
		oh.Set("Content-Transfer-Encoding", "8bit")
	} else {
		oh.Set("Content-Transfer-Encoding", "7bit")
	}
	pw, err := mw.CreatePart(oh)
	if err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	if _, err := pw.Write(body); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		io.WriteString(pw, "\r\n")
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("compose dsn: %w", err)
	}
	return nil
}

// readHeader reads the header block of a message, up to and including the
// empty line that ends it, at most maxHeader bytes.
func readHeader(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, maxHeader))
	var out bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		out.Write(line)
		if len(bytes.TrimRight(line, "\r\n")) == 0 && len(line) > 0 {
			return out.Bytes(), nil
		}
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func has8bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// statusFields renders the message/delivery-status body (RFC 3464 2.1):
// the per-message fields, then a block per recipient, blocks separated by
// an empty line.
func statusFields(n *Notice) string {
	var b strings.Builder
	field(&b, "Reporting-MTA", "dns; "+n.ReportingMTA)
	if !n.ArrivalDate.IsZero() {
		field(&b, "Arrival-Date", n.ArrivalDate.Format(time.RFC1123Z))
	}
	for _, r := range n.Recipients {
		b.WriteString("\r\n")
		if r.OriginalRecipient != "" {
			field(&b, "Original-Recipient", addressType(r.OriginalRecipient)+"; "+r.OriginalRecipient)
		}
		field(&b, "Final-Recipient", addressType(r.FinalRecipient)+"; "+r.FinalRecipient)
		field(&b, "Action", string(r.Action))
		field(&b, "Status", r.Status)
		if r.RemoteMTA != "" {
			field(&b, "Remote-MTA", "dns; "+r.RemoteMTA)
		}
		if r.Diagnostic != "" {
			typ := r.DiagnosticType
			if typ == "" {
				typ = "smtp"
			}
			field(&b, "Diagnostic-Code", typ+"; "+oneLine(r.Diagnostic))
		}
		if !r.LastAttemptDate.IsZero() {
			field(&b, "Last-Attempt-Date", r.LastAttemptDate.Format(time.RFC1123Z))
		}
		if !r.WillRetryUntil.IsZero() {
			field(&b, "Will-Retry-Until", r.WillRetryUntil.Format(time.RFC1123Z))
		}
	}
	return b.String()
}

// addressType is rfc822 for ASCII addresses and utf-8 for internationalised
// ones (RFC 6533 3).
func addressType(a string) string {
	for i := 0; i < len(a); i++ {
		if a[i] >= 0x80 {
			return "utf-8"
		}
	}
	return "rfc822"
}

func field(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(oneLine(value))
	b.WriteString("\r\n")
}

// oneLine keeps a remote reply from adding lines (and so fields) of its
// own: CR, LF and other controls become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func defaultSubject(rs []Recipient) string {
	for _, r := range rs {
		if r.Action == Failed {
			return "Undelivered Mail Returned to Sender"
		}
	}
	if rs[0].Action == Delayed {
		return "Delayed Mail (still being retried)"
	}
	return "Delivery Status Notification"
}

func explain(n *Notice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This is the mail system at host %s.\n\n", n.ReportingMTA)
	failed, delayed := 0, 0
	for _, r := range n.Recipients {
		switch r.Action {
		case Failed:
			failed++
		case Delayed:
			delayed++
		}
	}
	if failed > 0 {
		b.WriteString("I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n")
	}
	if delayed > 0 {
		b.WriteString("Your message could not yet be delivered to one or more\nrecipients. Delivery will be tried again; you need not send it again.\n\n")
	}
	for _, r := range n.Recipients {
		fmt.Fprintf(&b, "<%s>: ", r.FinalRecipient)
		switch {
		case r.RemoteMTA != "" && r.Diagnostic != "" && (r.DiagnosticType == "" || strings.EqualFold(r.DiagnosticType, "smtp")):
			fmt.Fprintf(&b, "host %s said: %s\n", r.RemoteMTA, oneLine(r.Diagnostic))
		case r.Diagnostic != "":
			fmt.Fprintf(&b, "%s\n", oneLine(r.Diagnostic))
		default:
			fmt.Fprintf(&b, "%s (status %s)\n", r.Action, r.Status)
		}
	}
	return b.String()
}

// crlf turns bare LF line ends into CRLF.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// headerAddress formats "Name <addr>"; the name is plain ASCII here.
func headerAddress(name, addr string) string {
	if addr == "" {
		return name + " <>"
	}
	return name + " <" + addr + ">"
}

func newMessageID(host string) string {
	var b [12]byte
	rand.Read(b[:])
	if host == "" {
		host = "localhost"
	}
	return hex.EncodeToString(b[:]) + "@" + host
}
