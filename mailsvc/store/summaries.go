package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	// Registers the charsets go-message decodes beyond UTF-8 and ASCII,
	// for the text a body search reads.
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
)

// This file holds what a mail client that lists folders needs (webmail):
// the folders' counts, a folder's messages a page at a time with the
// metadata stored at delivery, filtered by header fields, and a bounded
// search of the messages' text parts.

// MessageCount is a folder's number of messages and of unseen ones.
type MessageCount struct {
	Messages, Unseen int64
}

// MessageCounts returns the counts of the mailbox's folders that hold
// messages, by folder id (a folder missing from the map is empty).
func (s *Store) MessageCounts(ctx context.Context, mailboxID int64) (map[int64]MessageCount, error) {
	var rows []struct {
		FolderID int64
		Messages int64
		Unseen   int64
	}
	err := s.db.Read(ctx).Model(&Message{}).Where("mailbox_id = ?", mailboxID).
		Select("folder_id, COUNT(*) AS messages, COALESCE(SUM(CASE WHEN seen THEN 0 ELSE 1 END),0) AS unseen").
		Group("folder_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	out := make(map[int64]MessageCount, len(rows))
	for _, r := range rows {
		out[r.FolderID] = MessageCount{Messages: r.Messages, Unseen: r.Unseen}
	}
	return out, nil
}

// Summary is a message as a list shows it, from its row and the metadata
// its blob was indexed with.
type Summary struct {
	FolderID    int64
	UID         uint32
	Subject     string // decoded
	From        string // decoded display list
	To          string
	Date        time.Time // the Date header, else the arrival time
	Size        int64
	Seen        bool
	Flagged     bool
	Answered    bool
	Draft       bool
	Attachments bool
}

// SummaryQuery selects and pages a folder's messages. The header filters
// match parts of the stored fields, case-insensitively; all given must
// match (To matches To or Cc).
type SummaryQuery struct {
	From, To, Subject string
	// Body, when set, makes the query a body search: it is called with
	// the text of each text/plain and text/html part (subtype "plain" or
	// "html") of every message the header filters let through, transfer
	// encoding and charset decoded, at most MaxSearchText of it per part,
	// until it returns true; the messages it returns true for are kept.
	// Attached messages (message/rfc822) are not searched. Such a search
	// reads messages newest first until it has the page and one match more
	// (More), not to the end to count them; it reads at most MaxScan
	// messages (the pages before this one included) and starts none after
	// Deadline, and then returns what it found with Stopped. Both bounds
	// are required.
	Body     func(subtype, text string) bool
	MaxScan  int
	Deadline time.Time
	Offset   int
	Limit    int // 1 to MaxSummaries; else DefaultSummaries
}

// Page sizes of Summaries.
const (
	DefaultSummaries = 50
	MaxSummaries     = 500
)

// MaxSearchText is the text of one part a body search reads.
const MaxSearchText = 1 << 20

// SummaryPage is one page of a folder's messages.
type SummaryPage struct {
	Messages []Summary
	// Total is how many messages match in all, or -1 when a body search
	// did not read to the folder's end and so did not count them.
	Total int64
	// More reports a match after this page.
	More bool
	// Stopped reports a body search that gave up before the folder's end
	// (MaxScan or Deadline): older messages may match too.
	Stopped bool
}

// errNoSearchBounds refuses a body search without its bounds.
var errNoSearchBounds = errors.New("a body search needs MaxScan and Deadline")

// summaryRow is a message row with the blob metadata a list shows.
type summaryRow struct {
	ID             int64
	UID            uint32 `gorm:"column:uid"`
	FolderID       int64
	Seen           bool
	Flagged        bool
	Answered       bool
	Draft          bool
	Size           int64
	InternalDate   time.Time
	BlobKey        string
	Subject        string
	FromAddr       string
	ToAddr         string
	SentAt         *time.Time
	HasAttachments bool
	Structure      string
}

func (r *summaryRow) summary() Summary {
	s := Summary{FolderID: r.FolderID, UID: r.UID, Subject: r.Subject, From: r.FromAddr, To: r.ToAddr,
		Date: r.InternalDate, Size: r.Size, Seen: r.Seen, Flagged: r.Flagged, Answered: r.Answered, Draft: r.Draft,
		Attachments: r.HasAttachments}
	if r.SentAt != nil && !r.SentAt.IsZero() {
		s.Date = *r.SentAt
	}
	return s
}

const summaryColumns = "m.id, m.uid, m.folder_id, m.seen, m.flagged, m.answered, m.draft, m.size, m.internal_date, m.blob_key, " +
	"b.subject, b.from_addr, b.to_addr, b.sent_at, b.has_attachments"

// summaryOrder is a list's order: newest first.
const summaryOrder = "m.internal_date DESC, m.uid DESC"

// summaryQuery selects a mailbox's folder's messages with their metadata,
// filtered by q's header fields.
func (s *Store) summaryQuery(ctx context.Context, mailboxID, folderID int64, q *SummaryQuery) *gorm.DB {
	db := s.db.Read(ctx).Table("mail_messages AS m").Joins("JOIN mail_blobs b ON b.blob_key = m.blob_key").
		Where("m.mailbox_id = ? AND m.folder_id = ?", mailboxID, folderID)
	if q.From != "" {
		db = db.Where(`LOWER(b.from_addr) LIKE ? ESCAPE '\'`, database.Contains(q.From))
	}
	if q.To != "" {
		db = db.Where(`(LOWER(b.to_addr) LIKE ? ESCAPE '\' OR LOWER(b.cc_addr) LIKE ? ESCAPE '\')`, database.Contains(q.To), database.Contains(q.To))
	}
	if q.Subject != "" {
		db = db.Where(`LOWER(b.subject) LIKE ? ESCAPE '\'`, database.Contains(q.Subject))
	}
	return db
}

// Summaries pages a mailbox's folder newest first from the message rows
// and the metadata stored at delivery; only a body search (q.Body) reads
// messages. A folder of another mailbox is ErrNoFolder.
func (s *Store) Summaries(ctx context.Context, mailboxID, folderID int64, q SummaryQuery) (*SummaryPage, error) {
	if _, err := s.FolderByID(ctx, mailboxID, folderID); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > MaxSummaries {
		q.Limit = DefaultSummaries
	}
	q.Offset = max(q.Offset, 0)
	if q.Body != nil {
		if q.MaxScan <= 0 || q.Deadline.IsZero() {
			return nil, errNoSearchBounds
		}
		return s.searchBodies(ctx, mailboxID, folderID, &q)
	}
	page := &SummaryPage{}
	if q.From == "" && q.To == "" && q.Subject == "" {
		err := s.db.Read(ctx).Model(&Message{}).Where("mailbox_id = ? AND folder_id = ?", mailboxID, folderID).
			Count(&page.Total).Error
		if err != nil {
			return nil, fmt.Errorf("count messages: %w", err)
		}
	} else if err := s.summaryQuery(ctx, mailboxID, folderID, &q).Count(&page.Total).Error; err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	var rows []summaryRow
	err := s.summaryQuery(ctx, mailboxID, folderID, &q).Select(summaryColumns).Order(summaryOrder).Limit(q.Limit).Offset(q.Offset).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	for i := range rows {
		page.Messages = append(page.Messages, rows[i].summary())
	}
	page.More = int64(q.Offset+len(page.Messages)) < page.Total
	return page, nil
}

// Summary returns one message of a mailbox's folder as a list shows it;
// ErrNoMessage when there is none.
func (s *Store) Summary(ctx context.Context, mailboxID, folderID int64, uid uint32) (*Summary, error) {
	var rows []summaryRow
	err := s.summaryQuery(ctx, mailboxID, folderID, &SummaryQuery{}).Where("m.uid = ?", uid).Select(summaryColumns).Limit(1).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("message %d: %w", uid, ErrNoMessage)
	}
	sum := rows[0].summary()
	return &sum, nil
}

// searchBatch is how many rows a body search loads at a time.
const searchBatch = 500

// searchBodies reads the messages the header filters let through, in
// order, a batch of rows at a time, until it has the page and one match
// more: it does not read on to count the matches. It reads at most
// q.MaxScan messages (those of the pages before this one included) and
// starts no message after q.Deadline; a search cut short so returns what
// it found with Stopped, while a request that ends (the browser went
// away) ends it with the context's error.
func (s *Store) searchBodies(ctx context.Context, mailboxID, folderID int64, q *SummaryQuery) (*SummaryPage, error) {
	sctx, cancel := context.WithDeadline(ctx, q.Deadline)
	defer cancel()
	// cut says whether the search ends here: with the request's error
	// when the request ended, with none (Stopped) when the search's
	// deadline passed; else stop is false and err comes back as given.
	cut := func(err error) (stop bool, _ error) {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if sctx.Err() != nil {
			return true, nil
		}
		return false, err
	}
	page := &SummaryPage{Total: -1}
	matched, read := 0, 0
	for !page.More && !page.Stopped {
		// One row past the cap, if there is one, says the search was cut.
		want := min(searchBatch, q.MaxScan-read+1)
		var rows []summaryRow
		err := s.summaryQuery(sctx, mailboxID, folderID, q).Select(summaryColumns + ", b.structure").Order(summaryOrder).
			Limit(want).Offset(read).Scan(&rows).Error
		if err != nil {
			if stop, err := cut(err); !stop {
				return nil, fmt.Errorf("search messages: %w", err)
			} else if err != nil {
				return nil, err
			}
			page.Stopped = true
			break
		}
		for i := range rows {
			if stop, err := cut(nil); err != nil {
				return nil, err
			} else if stop || read == q.MaxScan {
				page.Stopped = true
				break
			}
			r := &rows[i]
			ok, err := s.searchText(sctx, r, q.Body)
			if err != nil {
				if stop, err := cut(err); !stop {
					return nil, fmt.Errorf("search message %d: %w", r.UID, err)
				} else if err != nil {
					return nil, err
				}
				page.Stopped = true
				break
			}
			read++
			switch {
			case !ok:
			case len(page.Messages) == q.Limit:
				page.More = true
			case matched >= q.Offset:
				page.Messages = append(page.Messages, r.summary())
				fallthrough
			default:
				matched++
			}
			if page.More {
				break
			}
		}
		if len(rows) < want {
			break // the folder's end
		}
	}
	if !page.More && !page.Stopped {
		page.Total = int64(matched)
	}
	return page, nil
}

// errFound ends a walk at the first match.
var errFound = errors.New("found")

// searchText reports whether match returns true for one of a message's
// text parts. It reads the parts through the offsets recorded at delivery
// (only the text parts' bytes are read); a message indexed without them
// (Part.HasOffsets) is walked once with the indexer's own walker. It
// stops when ctx ends.
func (s *Store) searchText(ctx context.Context, r *summaryRow, match func(subtype, text string) bool) (bool, error) {
	br, err := s.blobs.Open(ctx, r.BlobKey)
	if err != nil {
		return false, fmt.Errorf("open message %d: %w", r.UID, err)
	}
	defer br.Close()
	src := ctxReaderAt{ctx: ctx, r: br}
	var tree *Part
	if r.Structure != "" {
		if tree, err = ParseStructure(r.Structure); err != nil {
			s.log.Warn("body search: stored structure unreadable; walking the message", "uid", r.UID, "err", err)
			tree = nil
		}
	}
	if tree != nil && tree.HasOffsets() {
		found := false
		err := eachText(tree, func(p *Part) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			body := io.NewSectionReader(src, p.BodyStart, p.BodyEnd-p.BodyStart)
			if match(p.Subtype, partText(p, body, MaxSearchText)) {
				found = true
				return errFound
			}
			return nil
		})
		if errors.Is(err, errFound) {
			err = nil
		}
		if err == nil {
			err = ctx.Err()
		}
		return found, err
	}
	found := false
	err = walkLeaves(src, br.Size(), func(p *Part, _ textproto.Header, body io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !isSearchedText(p) {
			return nil
		}
		if match(p.Subtype, partText(p, body, MaxSearchText)) {
			found = true
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) || (err != nil && !isReadError(err) && ctx.Err() == nil) {
		// Found, or a message past the MIME limits: what was read counts.
		err = nil
	}
	if err == nil {
		err = ctx.Err()
	}
	return found, err
}

// isSearchedText reports whether a body search reads a leaf.
func isSearchedText(p *Part) bool {
	return p.Type == "text" && (p.Subtype == "plain" || p.Subtype == "html")
}

// eachText calls fn for the text leaves of a recorded structure, depth
// first, not descending into attached messages.
func eachText(p *Part, fn func(p *Part) error) error {
	if p.Type == "multipart" {
		for i := range p.Children {
			if err := eachText(&p.Children[i], fn); err != nil {
				return err
			}
		}
		return nil
	}
	if !isSearchedText(p) || !p.HasOffsets() {
		return nil
	}
	return fn(p)
}

// partText returns a text part's content as UTF-8, transfer encoding and
// charset decoded, at most max bytes of it; "" when it can't be decoded.
func partText(p *Part, body io.Reader, max int) string {
	h := gomessage.Header{}
	h.SetContentType(p.Type+"/"+p.Subtype, p.Params)
	if p.Encoding != "" {
		h.Set("Content-Transfer-Encoding", p.Encoding)
	}
	e, err := gomessage.New(h, body)
	if e == nil || (err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err)) {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(e.Body, int64(max)))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// walkLeaves walks a message with the indexer's walker and calls visit for
// every leaf (an attached message is one) with its header and its body as
// stored, within the MIME limits (past them it returns errMIMELimit).
func walkLeaves(r io.ReaderAt, size int64, visit func(p *Part, h textproto.Header, body io.Reader) error) error {
	src := readErrorAt{r}
	cr := &countReader{r: io.NewSectionReader(src, 0, size)}
	br := bufio.NewReaderSize(cr, 32<<10)
	h, err := textproto.ReadHeader(br)
	if isReadError(err) {
		return fmt.Errorf("read message header: %w", err)
	}
	headerLen := cr.n - int64(br.Buffered())
	if err != nil {
		h, headerLen = textproto.Header{}, 0
	}
	w := &walker{text: textBudget{left: maxStructureText}, visit: visit}
	_, err = w.part(h, io.NewSectionReader(src, headerLen, size-headerLen), headerLen, "", 0)
	return err
}

// ctxReaderAt fails its reads once ctx has ended, so that reading a long
// part stops too.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}
