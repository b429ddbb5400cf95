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
}

// ParseHeader reads a message's header block. A header that does not parse
// to its end counts with the fields read so far: a message with a damaged
// header is still delivered, as store.Index treats it.
func ParseHeader(r io.ReaderAt, size int64) *Header {
	br := bufio.NewReader(io.LimitReader(io.NewSectionReader(r, 0, size), maxHeaderBytes))
	fields, _ := textproto.ReadHeader(br)
	h := &Header{Fields: fields, DeliveredTo: map[string]bool{}}
	h.Received = len(fields.Values("Received"))
	for _, v := range fields.Values("Delivered-To") {
		v = strings.TrimSpace(v)
		v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		h.DeliveredTo[strings.ToLower(v)] = true
	}
	return h
}
