package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// MIME limits, Dovecot's: past them a message is one opaque part, so that
// parsing never takes time that grows with a hostile nesting depth.
const (
	MaxMIMEDepth = 100
	MaxMIMEParts = 10000
	// maxStoredHeader bounds the header block kept in the database; longer
	// headers are read from the blob.
	maxStoredHeader = 64 << 10
)

var errMIMELimit = errors.New("MIME limits exceeded")

// Part is a MIME part's structure as IMAP BODYSTRUCTURE describes it, kept
// as JSON beside the message so FETCH never re-parses the body.
type Part struct {
	Type        string            `json:"t"`
	Subtype     string            `json:"s"`
	Params      map[string]string `json:"p,omitempty"`
	ID          string            `json:"id,omitempty"`
	Description string            `json:"d,omitempty"`
	Encoding    string            `json:"e,omitempty"`
	Size        int64             `json:"z"`
	Lines       int64             `json:"l,omitempty"`
	Disposition string            `json:"di,omitempty"`
	DispParams  map[string]string `json:"dp,omitempty"`
	Language    []string          `json:"la,omitempty"`
	Location    string            `json:"lo,omitempty"`
	// Envelope is set for message/rfc822 parts.
	Envelope *imap.Envelope `json:"en,omitempty"`
	// Children are a multipart's parts, or a message/rfc822's one body.
	Children []Part `json:"c,omitempty"`
}

// Meta is what delivery learns of a message once, for every later FETCH,
// SEARCH and webmail list.
type Meta struct {
	Header         []byte // raw header block, up to maxStoredHeader
	Envelope       *imap.Envelope
	Structure      Part
	Subject        string // decoded
	From, To, Cc   string // decoded display lists
	MessageID      string
	SentAt         *time.Time
	HasAttachments bool
}

// Index parses a message for its Meta within the MIME limits.
func Index(r io.ReaderAt, size int64) (*Meta, error) {
	cr := &countReader{r: io.NewSectionReader(r, 0, size)}
	br := bufio.NewReaderSize(cr, 32<<10)
	h, err := textproto.ReadHeader(br)
	headerLen := cr.n - int64(br.Buffered())
	if err != nil {
		// A message without a parsable header is still a message: one
		// opaque text part.
		h, headerLen = textproto.Header{}, 0
	}
	m := &Meta{Envelope: envelope(h)}
	if headerLen > 0 && headerLen <= maxStoredHeader {
		m.Header = make([]byte, headerLen)
		if _, err := r.ReadAt(m.Header, 0); err != nil && err != io.EOF {
			return nil, err
		}
	}
	mh := mail.Header{Header: gomessage.Header{Header: h}}
	m.Subject, _ = mh.Subject()
	m.From = addressList(mh, "From")
	m.To = addressList(mh, "To")
	m.Cc = addressList(mh, "Cc")
	m.MessageID, _ = mh.MessageID()
	if d, err := mh.Date(); err == nil && !d.IsZero() {
		d = d.UTC()
		m.SentAt = &d
	}
	body := io.NewSectionReader(r, headerLen, size-headerLen)
	w := &walker{}
	p, err := w.part(h, body, 0)
	if errors.Is(err, errMIMELimit) {
		p = opaque(h, size-headerLen)
	} else if err != nil {
		return nil, err
	}
	m.Structure = p
	m.HasAttachments = hasAttachment(p)
	return m, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

func addressList(h mail.Header, key string) string {
	as, err := h.AddressList(key)
	if err != nil || len(as) == 0 {
		v, _ := h.Text(key)
		return v
	}
	var out []string
	for _, a := range as {
		if a.Name != "" {
			out = append(out, a.Name+" <"+a.Address+">")
		} else {
			out = append(out, a.Address)
		}
	}
	return strings.Join(out, ", ")
}

type walker struct {
	parts int
}

func (w *walker) part(h textproto.Header, body io.Reader, depth int) (Part, error) {
	w.parts++
	if depth > MaxMIMEDepth || w.parts > MaxMIMEParts {
		return Part{}, errMIMELimit
	}
	gh := gomessage.Header{Header: h}
	mt, params, err := gh.ContentType()
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	typ, sub, _ := strings.Cut(mt, "/")
	p := Part{Type: typ, Subtype: sub, Params: params, ID: h.Get("Content-Id"),
		Description: h.Get("Content-Description"), Encoding: strings.ToLower(h.Get("Content-Transfer-Encoding")),
		Location: h.Get("Content-Location")}
	if d, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		p.Disposition, p.DispParams = d, dp
	}
	if l := h.Get("Content-Language"); l != "" {
		for _, v := range strings.Split(l, ",") {
			if v = strings.TrimSpace(v); v != "" {
				p.Language = append(p.Language, v)
			}
		}
	}
	if typ == "multipart" && params["boundary"] != "" {
		mr := textproto.NewMultipartReader(body, params["boundary"])
		for {
			cp, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				break // a broken multipart keeps the parts read so far
			}
			c, err := w.part(cp.Header, cp, depth+1)
			if err != nil {
				return Part{}, err
			}
			p.Children = append(p.Children, c)
		}
		// Count what follows the last boundary, so sizes stay honest.
		io.Copy(io.Discard, body)
		if len(p.Children) == 0 {
			p.Children = []Part{{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"}}}
		}
		return p, nil
	}
	if typ == "multipart" {
		p.Type, p.Subtype, p.Params = "text", "plain", map[string]string{"charset": "us-ascii"}
	}
	cw := &countWriter{}
	if mt == "message/rfc822" || mt == "message/global" {
		var buf bytes.Buffer
		n, err := io.Copy(io.MultiWriter(cw, &buf), io.LimitReader(body, 64<<20))
		if err != nil {
			return Part{}, err
		}
		io.Copy(cw, body)
		p.Size, p.Lines = cw.n, cw.lines
		br := bufio.NewReader(bytes.NewReader(buf.Bytes()[:n]))
		ch, err := textproto.ReadHeader(br)
		if err == nil {
			p.Envelope = envelope(ch)
			c, err := w.part(ch, br, depth+1)
			if err != nil {
				return Part{}, err
			}
			p.Children = []Part{c}
		}
		return p, nil
	}
	if _, err := io.Copy(cw, body); err != nil {
		return Part{}, err
	}
	p.Size = cw.n
	if typ == "text" {
		p.Lines = cw.lines
	}
	return p, nil
}

func opaque(h textproto.Header, size int64) Part {
	return Part{Type: "application", Subtype: "octet-stream", Size: size}
}

type countWriter struct {
	n, lines int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	c.lines += int64(bytes.Count(b, []byte{'\n'}))
	return len(b), nil
}

func hasAttachment(p Part) bool {
	if strings.EqualFold(p.Disposition, "attachment") {
		return true
	}
	for _, c := range p.Children {
		if hasAttachment(c) {
			return true
		}
	}
	return false
}

// IMAP converts the stored structure to go-imap's type.
func (p *Part) IMAP() imap.BodyStructure {
	if p.Type == "multipart" {
		mp := &imap.BodyStructureMultiPart{Subtype: p.Subtype, Extended: &imap.BodyStructureMultiPartExt{
			Params: p.Params, Disposition: p.disposition(), Language: p.Language, Location: p.Location,
		}}
		for i := range p.Children {
			mp.Children = append(mp.Children, p.Children[i].IMAP())
		}
		return mp
	}
	sp := &imap.BodyStructureSinglePart{
		Type: p.Type, Subtype: p.Subtype, Params: p.Params, ID: p.ID, Description: p.Description,
		Encoding: p.Encoding, Size: uint32(min(p.Size, 1<<32-1)),
		Extended: &imap.BodyStructureSinglePartExt{Disposition: p.disposition(), Language: p.Language, Location: p.Location},
	}
	if sp.Encoding == "" {
		sp.Encoding = "7bit"
	}
	if p.Type == "text" {
		sp.Text = &imap.BodyStructureText{NumLines: p.Lines}
	}
	if p.Envelope != nil && len(p.Children) == 1 {
		sp.MessageRFC822 = &imap.BodyStructureMessageRFC822{Envelope: p.Envelope, BodyStructure: p.Children[0].IMAP(), NumLines: p.Lines}
	}
	return sp
}

func (p *Part) disposition() *imap.BodyStructureDisposition {
	if p.Disposition == "" {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: p.Disposition, Params: p.DispParams}
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
