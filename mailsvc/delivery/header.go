package delivery

import (
	"bufio"
	"io"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// maxHeaderBytes bounds the header block read for delivery decisions.
const maxHeaderBytes = 1 << 20

// Header is what delivery reads from a message's header: the fields, the
// number of Received headers and the addresses of its Delivered-To headers
// (lower-cased).
type Header struct {
	Fields      textproto.Header
	Received    int
	DeliveredTo map[string]bool
	// Complete says the header block was read to its end: its empty
	// line, or the end of a message that is all header. Fields past a
	// damaged line or past maxHeaderBytes are not in Fields.
	Complete bool
}

// ParseHeader reads a message's header block. A header that does not parse
// to its end counts with the fields read so far: a message with a damaged
// header is still delivered, as store.Index treats it.
func ParseHeader(r io.ReaderAt, size int64) *Header {
	lr := &io.LimitedReader{R: io.NewSectionReader(r, 0, size), N: maxHeaderBytes}
	br := bufio.NewReader(lr)
	fields, err := textproto.ReadHeader(br)
	// ReadHeader takes the end of input for the end of the header, also
	// in mid-line: a header read up to the bound, of a message that goes
	// on, was cut short.
	read := maxHeaderBytes - lr.N - int64(br.Buffered())
	complete := err == nil && (read < maxHeaderBytes || size <= maxHeaderBytes)
	h := &Header{Fields: fields, DeliveredTo: map[string]bool{}, Complete: complete}
	h.Received = len(fields.Values("Received"))
	for _, v := range fields.Values("Delivered-To") {
		v = strings.TrimSpace(v)
		v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		h.DeliveredTo[strings.ToLower(v)] = true
	}
	return h
}
