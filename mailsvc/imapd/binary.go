package imapd

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
)

// BINARY (RFC 3516): FETCH BINARY[] and BINARY.SIZE[] undo a part's
// transfer encoding (fetch.go); APPEND takes a literal8, whose message may
// hold NUL bytes, which no literal of a FETCH BODY[] may carry. Such a
// message is stored with every part whose body holds a NUL re-encoded in
// base64, as RFC 3516 4.2 allows: BODY[] sends it as 7-bit text, BINARY[]
// decodes it back to the bytes that were appended. Every other byte of
// the message stays as it came; one without NULs is stored as it came.

// binarySafe returns p, or a new pending blob with p's message made
// binary-safe (p then aborted).
func (s *Session) binarySafe(p blob.Pending) (blob.Pending, error) {
	r := p.ReaderAt()
	if !hasNUL(io.NewSectionReader(r, 0, p.Size())) {
		return p, nil
	}
	meta, err := store.Index(r, p.Size())
	if err != nil {
		return nil, fmt.Errorf("index appended message: %w", err)
	}
	var spans []store.Part // leaf parts whose body holds a NUL
	var walk func(pt *store.Part)
	walk = func(pt *store.Part) {
		for i := range pt.Children {
			walk(&pt.Children[i])
		}
		if len(pt.Children) == 0 && pt.HasOffsets() && pt.BodyEnd > pt.BodyStart &&
			hasNUL(io.NewSectionReader(r, pt.BodyStart, pt.BodyEnd-pt.BodyStart)) {
			spans = append(spans, *pt)
		}
	}
	walk(&meta.Structure)
	if len(spans) == 0 {
		return p, nil // NULs in headers or where no part is: stored as they are
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].HeaderStart < spans[j].HeaderStart })
	out, err := s.st.Blobs().Create(s.ctx)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (blob.Pending, error) {
		out.Abort()
		return nil, fmt.Errorf("re-encode appended message: %w", err)
	}
	at := int64(0)
	for _, pt := range spans {
		if _, err := io.Copy(out, io.NewSectionReader(r, at, pt.HeaderStart-at)); err != nil {
			return fail(err)
		}
		hdr := make([]byte, pt.BodyStart-pt.HeaderStart)
		if _, err := r.ReadAt(hdr, pt.HeaderStart); err != nil {
			return fail(err)
		}
		if _, err := out.Write(withBase64CTE(hdr)); err != nil {
			return fail(err)
		}
		body := make([]byte, pt.BodyEnd-pt.BodyStart)
		if _, err := r.ReadAt(body, pt.BodyStart); err != nil {
			return fail(err)
		}
		if _, err := out.Write(base64Lines(body)); err != nil {
			return fail(err)
		}
		at = pt.BodyEnd
	}
	if _, err := io.Copy(out, io.NewSectionReader(r, at, p.Size()-at)); err != nil {
		return fail(err)
	}
	p.Abort()
	return out, nil
}

func hasNUL(r io.Reader) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if bytes.IndexByte(buf[:n], 0) >= 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// withBase64CTE replaces a part header's Content-Transfer-Encoding
// field (its continuation lines too) with "base64"; hdr ends with its
// blank line.
func withBase64CTE(hdr []byte) []byte {
	lines := strings.SplitAfter(string(hdr), "\n")
	var out strings.Builder
	skip := false
	added := false
	for _, l := range lines {
		if l == "" {
			continue
		}
		if skip && (l[0] == ' ' || l[0] == '\t') {
			continue
		}
		skip = false
		if strings.TrimRight(l, "\r\n") == "" && !added {
			out.WriteString("Content-Transfer-Encoding: base64\r\n")
			added = true
		}
		if name, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Content-Transfer-Encoding") {
			skip = true
			continue
		}
		out.WriteString(l)
	}
	if !added {
		out.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	}
	return []byte(out.String())
}

// base64Lines encodes b in base64 lines of 76 characters (RFC 2045 6.8).
func base64Lines(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(enc) > 76 {
		out.WriteString(enc[:76])
		out.WriteString("\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc)
	out.WriteString("\r\n")
	return out.Bytes()
}
