package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-message/textproto"
)

// ErrMIMELimit ends a walk of a message past the MIME limits (MaxMIMEDepth,
// MaxMIMEParts).
var ErrMIMELimit = errMIMELimit

// WalkMessage reads a message of a mailbox's folder part by part, as a
// mail client shows it: it returns the message's header (the recipient's
// prefix included) and calls visit, depth first, for every leaf, a part
// that is not a multipart (an attached message is one leaf), with the
// leaf's header and its body as stored (transfer-encoded). The leaves are
// read through the offsets recorded at delivery, their header and body
// and nothing else; a message recorded without them is walked once with
// the indexer's walker. Past the MIME limits it returns ErrMIMELimit after
// the leaves before them; when ctx ends, ctx's error, between leaves and
// within one; an error of visit ends the walk and is returned as it is. A
// message of another mailbox is ErrNoMessage.
func (s *Store) WalkMessage(ctx context.Context, mailboxID, folderID int64, uid uint32, visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
	m, err := s.Message(ctx, mailboxID, folderID, uid)
	if err != nil {
		return textproto.Header{}, err
	}
	b, err := s.Blob(ctx, m.BlobKey)
	if err != nil {
		return textproto.Header{}, err
	}
	r, err := s.Open(ctx, m)
	if err != nil {
		return textproto.Header{}, err
	}
	defer r.Close()
	src := ctxReaderAt{ctx: ctx, r: r}
	top, err := textproto.ReadHeader(bufio.NewReader(io.NewSectionReader(src, 0, r.Size())))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return textproto.Header{}, cerr
		}
		// No parsable header: the whole message is one text part.
		top = textproto.Header{}
	}
	var tree *Part
	if b.Structure != "" {
		if tree, err = ParseStructure(b.Structure); err != nil {
			s.log.Warn("stored structure unreadable; walking the message", "uid", uid, "err", err)
			tree = nil
		}
	}
	if tree != nil && tree.HasOffsets() {
		err = walkRecorded(ctx, src, int64(len(m.Prefix)), tree, visit)
	} else {
		err = walkLeaves(src, r.Size(), func(_ *Part, h textproto.Header, body io.Reader) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return visit(h, body)
		})
	}
	if cerr := ctx.Err(); cerr != nil {
		// Whatever the walk made of a read that failed, say why it did.
		return top, cerr
	}
	var re *readError
	if errors.As(err, &re) {
		return top, fmt.Errorf("read message %d: %w", uid, re.err)
	}
	return top, err
}

// walkRecorded calls visit for the leaves of a recorded structure whose
// offsets are relative to base in src.
func walkRecorded(ctx context.Context, src io.ReaderAt, base int64, p *Part, visit func(h textproto.Header, body io.Reader) error) error {
	if p.Type == "multipart" {
		for i := range p.Children {
			if err := walkRecorded(ctx, src, base, &p.Children[i], visit); err != nil {
				return err
			}
		}
		return nil
	}
	if !p.HasOffsets() {
		return nil // the placeholder of a multipart without parts
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h, err := textproto.ReadHeader(bufio.NewReader(io.NewSectionReader(src, base+p.HeaderStart, p.BodyStart-p.HeaderStart)))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		h = textproto.Header{}
	}
	return visit(h, io.NewSectionReader(src, base+p.BodyStart, p.BodyEnd-p.BodyStart))
}
