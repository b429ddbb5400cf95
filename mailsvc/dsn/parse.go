package dsn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// ErrNotDSN is a message that is not a multipart/report of report-type
// delivery-status.
var ErrNotDSN = errors.New("not a delivery status notification")

// maxPart bounds what Parse reads of one part.
const maxPart = 32 << 20

// Report is a parsed DSN.
type Report struct {
	ReportingMTA string
	ArrivalDate  time.Time
	Recipients   []Recipient
	// Text is the human-readable part.
	Text string
	// Original is the returned message, or its header when HeadersOnly.
	Original    []byte
	HeadersOnly bool
}

// Parse reads a DSN (RFC 3464, RFC 6533 for the global types).
func Parse(r io.Reader) (*Report, error) {
	e, err := message.Read(r)
	if err != nil && !message.IsUnknownCharset(err) {
		return nil, fmt.Errorf("parse dsn: %w", err)
	}
	mt, params, err := e.Header.ContentType()
	if err != nil || mt != "multipart/report" || !strings.EqualFold(params["report-type"], "delivery-status") {
		return nil, ErrNotDSN
	}
	mr := e.MultipartReader()
	if mr == nil {
		return nil, ErrNotDSN
	}
	rep := &Report{}
	sawStatus := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			return nil, fmt.Errorf("parse dsn: %w", err)
		}
		pt, _, _ := p.Header.ContentType()
		body := io.LimitReader(p.Body, maxPart)
		switch pt {
		case "message/delivery-status", "message/global-delivery-status":
			if err := rep.parseStatus(body); err != nil {
				return nil, err
			}
			sawStatus = true
		case "message/rfc822", "message/global":
			if rep.Original, err = io.ReadAll(body); err != nil {
				return nil, fmt.Errorf("parse dsn: read original: %w", err)
			}
		case "text/rfc822-headers", "message/global-headers":
			if rep.Original, err = io.ReadAll(body); err != nil {
				return nil, fmt.Errorf("parse dsn: read original header: %w", err)
			}
			rep.HeadersOnly = true
		case "text/plain":
			if rep.Text == "" {
				b, err := io.ReadAll(body)
				if err != nil {
					return nil, fmt.Errorf("parse dsn: read text: %w", err)
				}
				rep.Text = string(b)
			}
		}
	}
	if !sawStatus {
		return nil, fmt.Errorf("%w: no delivery-status part", ErrNotDSN)
	}
	return rep, nil
}

// parseStatus reads the per-message block and the per-recipient blocks
// (RFC 3464 2.1).
func (rep *Report) parseStatus(r io.Reader) error {
	br := bufio.NewReader(r)
	first := true
	for {
		// Skip the empty lines between blocks.
		for {
			b, err := br.Peek(1)
			if err == io.EOF || len(b) == 0 {
				return nil
			}
			if err != nil {
				return fmt.Errorf("parse dsn status: %w", err)
			}
			if b[0] != '\r' && b[0] != '\n' {
				break
			}
			br.ReadByte()
		}
		h, err := textproto.ReadHeader(br)
		if err != nil && err != io.EOF {
			return fmt.Errorf("parse dsn status: %w", err)
		}
		if first {
			rep.ReportingMTA = typed(h.Get("Reporting-Mta"))
			rep.ArrivalDate = date(h.Get("Arrival-Date"))
			first = false
			if err == io.EOF {
				return nil
			}
			continue
		}
		rep.Recipients = append(rep.Recipients, Recipient{
			FinalRecipient:    typed(h.Get("Final-Recipient")),
			OriginalRecipient: typed(h.Get("Original-Recipient")),
			Action:            Action(strings.ToLower(strings.TrimSpace(h.Get("Action")))),
			Status:            strings.TrimSpace(h.Get("Status")),
			RemoteMTA:         typed(h.Get("Remote-Mta")),
			Diagnostic:        typed(h.Get("Diagnostic-Code")),
			DiagnosticType:    fieldType(h.Get("Diagnostic-Code")),
			LastAttemptDate:   date(h.Get("Last-Attempt-Date")),
			WillRetryUntil:    date(h.Get("Will-Retry-Until")),
		})
		if err == io.EOF {
			return nil
		}
	}
}

// typed drops the type of a typed field ("rfc822; a@b" gives "a@b").
func typed(v string) string {
	v = strings.TrimSpace(v)
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(rest)
	}
	return v
}

// fieldType returns the type of a typed field ("smtp; 550 ..." gives "smtp").
func fieldType(v string) string {
	if t, _, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

func date(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := mail.ParseDate(strings.TrimSpace(v))
	if err != nil {
		return time.Time{}
	}
	return t
}
