package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/panel/webmail"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// submitter is the submission path as webmail uses it: what SMTP AUTH
// does with a message (sender check, rate limits, local delivery,
// outbound queue), for a login that is already authenticated.
type submitter interface {
	Submit(ctx context.Context, login *tenants.Login, remote string, from address.Address, rcpts []address.Address, msg []byte) error
}

// webmailSubmitter sends webmail's messages through delivery's
// submission, the checks, send limits and delivery SMTP submission runs.
type webmailSubmitter struct {
	deliverer *delivery.Deliverer
	hostname  string
	maxSize   int64
	now       func() time.Time
}

func (s *webmailSubmitter) Submit(ctx context.Context, login *tenants.Login, remote string, from address.Address, rcpts []address.Address, msg []byte) error {
	now := s.now()
	var id [6]byte
	rand.Read(id[:])
	received := fmt.Sprintf("Received: from [%s]\r\n\tby %s (Postdesk webmail) with HTTP id %x\r\n\tfor <%s>; %s\r\n",
		remote, s.hostname, id, login.Address, now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	if len(rcpts) > 1 {
		received = fmt.Sprintf("Received: from [%s]\r\n\tby %s (Postdesk webmail) with HTTP id %x; %s\r\n",
			remote, s.hostname, id, now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	}
	_, err := s.deliverer.Submit(ctx, &delivery.Submission{Login: login, Remote: remote, From: from, Rcpts: rcpts,
		Body: bytes.NewReader(msg), Received: received, MaxSize: s.maxSize})
	return submitError(err)
}

// submitError tells the user why a submission was refused, in words; other
// errors stay as they are.
func submitError(err error) error {
	var re *delivery.RecipientError
	user := func(msg string) error { return &webmail.SubmitError{Message: msg, Err: err} }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, delivery.ErrMayNotSend):
		return user("This mailbox may not send mail; ask your postmaster.")
	case errors.Is(err, delivery.ErrNotYourSender):
		return user("You can send only as one of your own addresses.")
	case errors.Is(err, delivery.ErrNoRecipients):
		return user("Give at least one recipient.")
	case errors.Is(err, delivery.ErrLoop):
		return user("The message was refused as a mail loop.")
	case errors.Is(err, store.ErrTooBig):
		return fmt.Errorf("%w: %w", webmail.ErrTooBig, err)
	case errors.As(err, &re):
		a := re.Rcpt.Unicode()
		switch {
		case errors.Is(err, tenants.ErrNoSuchUser):
			return user("There is no mailbox " + a + ".")
		case errors.Is(err, tenants.ErrDisabled):
			return user(a + " does not take mail.")
		case errors.Is(err, delivery.ErrMailboxFull):
			return user("The mailbox of " + a + " is full.")
		case errors.Is(err, delivery.ErrTooBigForMailbox):
			return user("The message is too big for the mailbox of " + a + ".")
		case errors.Is(err, delivery.ErrNoQueue):
			return user("Mail to other servers can't be sent right now; try again later.")
		}
		return user(a + " can't be reached from here.")
	case errors.Is(err, delivery.ErrRateLimited):
		return user("You have sent as much mail as this server allows for now; try again later.")
	}
	return err
}

// webmailMail gives the panel's webmail the message store and the
// submission path (webmail.Mail). Every method checks the folder against
// the signed-in mailbox before it touches messages, so another mailbox's
// folder or message is webmail.ErrNotFound.
type webmailMail struct {
	store   *store.Store
	submit  submitter
	maxSize int64
	log     *slog.Logger
	now     func() time.Time
}

var _ webmail.Mail = (*webmailMail)(nil)

// newWebmailMail builds webmail's view of the mail services, with
// delivery's submission.
func newWebmailMail(a *app, m *mailServices) *webmailMail {
	submit := &webmailSubmitter{deliverer: m.deliverer, hostname: a.cfg.Hostname, maxSize: a.set.MaxMessageBytes, now: time.Now}
	return &webmailMail{store: m.store, submit: submit, maxSize: a.set.MaxMessageBytes, log: a.log.With("part", "webmail"), now: time.Now}
}

// webmailConfig is what serve hands the panel for webmail.
func webmailConfig(m *webmailMail) *webmail.Config {
	return &webmail.Config{Mail: m, MaxMessageBytes: m.maxSize, MIMEDepth: store.MaxMIMEDepth, MIMEParts: store.MaxMIMEParts, Now: m.now}
}

// storeError translates the store's errors into webmail's.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNoFolder), errors.Is(err, store.ErrNoMessage):
		return fmt.Errorf("%w: %w", webmail.ErrNotFound, err)
	case errors.Is(err, store.ErrFolderExists):
		return fmt.Errorf("%w: %w", webmail.ErrExists, err)
	case errors.Is(err, store.ErrBadFolderName):
		return fmt.Errorf("%w: %w", webmail.ErrBadName, err)
	case errors.Is(err, store.ErrTooManyFolders):
		return fmt.Errorf("%w: %w", webmail.ErrTooManyFolders, err)
	case errors.Is(err, store.ErrInbox):
		return fmt.Errorf("%w: %w", webmail.ErrNotAllowed, err)
	case errors.Is(err, store.ErrOverQuota):
		return fmt.Errorf("%w: %w", webmail.ErrOverQuota, err)
	case errors.Is(err, store.ErrTooBig):
		return fmt.Errorf("%w: %w", webmail.ErrTooBig, err)
	}
	return err
}

// folder returns a folder of the mailbox by id.
func (w *webmailMail) folder(ctx context.Context, mailboxID, id int64) (*store.Folder, error) {
	f, err := w.store.FolderByID(ctx, mailboxID, id)
	return f, storeError(err)
}

func (w *webmailMail) EnsureFolders(ctx context.Context, mailboxID int64) error {
	if err := w.store.EnsureFolders(ctx, mailboxID); err != nil {
		return fmt.Errorf("make default folders: %w", err)
	}
	return nil
}

// Folders reads the folders and their counts; it creates none (a GET
// writes nothing), EnsureFolders does.
func (w *webmailMail) Folders(ctx context.Context, mailboxID int64) ([]webmail.Folder, error) {
	fs, err := w.store.Folders(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	var counts []struct {
		FolderID int64
		Messages int64
		Unseen   int64
	}
	err = w.store.DB().Read(ctx).Model(&store.Message{}).Where("mailbox_id = ?", mailboxID).
		Select("folder_id, COUNT(*) AS messages, COALESCE(SUM(CASE WHEN seen THEN 0 ELSE 1 END),0) AS unseen").
		Group("folder_id").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	byID := map[int64]int{}
	out := make([]webmail.Folder, len(fs))
	for i, f := range fs {
		out[i] = webmail.Folder{ID: f.ID, Name: f.Name, SpecialUse: f.SpecialUse}
		byID[f.ID] = i
	}
	for _, c := range counts {
		if i, ok := byID[c.FolderID]; ok {
			out[i].Messages, out[i].Unseen = c.Messages, c.Unseen
		}
	}
	return out, nil
}

func (w *webmailMail) CreateFolder(ctx context.Context, mailboxID int64, name string) error {
	_, err := w.store.CreateFolder(ctx, mailboxID, name, "")
	return storeError(err)
}

func (w *webmailMail) RenameFolder(ctx context.Context, mailboxID, folderID int64, name string) error {
	f, err := w.folder(ctx, mailboxID, folderID)
	if err != nil {
		return err
	}
	return storeError(w.store.RenameFolder(ctx, mailboxID, f.Name, name))
}

func (w *webmailMail) DeleteFolder(ctx context.Context, mailboxID, folderID int64) error {
	f, err := w.folder(ctx, mailboxID, folderID)
	if err != nil {
		return err
	}
	return storeError(w.store.DeleteFolder(ctx, mailboxID, f.Name))
}

// listRow is a message row with the blob metadata a list shows.
type listRow struct {
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
	Prefix         string
	Subject        string
	FromAddr       string
	ToAddr         string
	SentAt         *time.Time
	HasAttachments bool
}

func (r *listRow) summary() webmail.Summary {
	s := webmail.Summary{FolderID: r.FolderID, UID: r.UID, Subject: r.Subject, From: r.FromAddr, To: r.ToAddr,
		Date: r.InternalDate, Size: r.Size, Seen: r.Seen, Flagged: r.Flagged, Answered: r.Answered, Draft: r.Draft,
		Attachments: r.HasAttachments}
	if r.SentAt != nil && !r.SentAt.IsZero() {
		s.Date = *r.SentAt
	}
	return s
}

const listColumns = "m.id, m.uid, m.folder_id, m.seen, m.flagged, m.answered, m.draft, m.size, m.internal_date, m.blob_key, m.prefix, " +
	"b.subject, b.from_addr, b.to_addr, b.sent_at, b.has_attachments"

// listQuery selects a folder's messages with their metadata, filtered by
// q's header fields.
func (w *webmailMail) listQuery(ctx context.Context, mailboxID, folderID int64, q webmail.Query) *gorm.DB {
	db := w.store.DB().Read(ctx).Table("mail_messages AS m").Joins("JOIN mail_blobs b ON b.blob_key = m.blob_key").
		Where("m.mailbox_id = ? AND m.folder_id = ?", mailboxID, folderID)
	like := func(s string) string { return "%" + escapeLike(strings.ToLower(s)) + "%" }
	if q.From != "" {
		db = db.Where("LOWER(b.from_addr) LIKE ? ESCAPE '\\'", like(q.From))
	}
	if q.To != "" {
		db = db.Where("(LOWER(b.to_addr) LIKE ? ESCAPE '\\' OR LOWER(b.cc_addr) LIKE ? ESCAPE '\\')", like(q.To), like(q.To))
	}
	if q.Subject != "" {
		db = db.Where("LOWER(b.subject) LIKE ? ESCAPE '\\'", like(q.Subject))
	}
	return db
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List pages a folder newest first from the message rows and the metadata
// stored at delivery. Only a body search opens bodies (searchBodies).
func (w *webmailMail) List(ctx context.Context, mailboxID, folderID int64, q webmail.Query) (*webmail.Page, error) {
	if _, err := w.folder(ctx, mailboxID, folderID); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	q.Offset = max(q.Offset, 0)
	const order = "m.internal_date DESC, m.uid DESC"
	page := &webmail.Page{}
	if q.Body == nil {
		if q.From == "" && q.To == "" && q.Subject == "" {
			err := w.store.DB().Read(ctx).Model(&store.Message{}).Where("mailbox_id = ? AND folder_id = ?", mailboxID, folderID).
				Count(&page.Total).Error
			if err != nil {
				return nil, fmt.Errorf("count messages: %w", err)
			}
		} else if err := w.listQuery(ctx, mailboxID, folderID, q).Count(&page.Total).Error; err != nil {
			return nil, fmt.Errorf("count messages: %w", err)
		}
		var rows []listRow
		err := w.listQuery(ctx, mailboxID, folderID, q).Select(listColumns).Order(order).Limit(q.Limit).Offset(q.Offset).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		for i := range rows {
			page.Messages = append(page.Messages, rows[i].summary())
		}
		page.More = int64(q.Offset+len(page.Messages)) < page.Total
		return page, nil
	}
	return w.searchBodies(ctx, mailboxID, folderID, q, order)
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
func (w *webmailMail) searchBodies(ctx context.Context, mailboxID, folderID int64, q webmail.Query, order string) (*webmail.Page, error) {
	if q.MaxScan <= 0 {
		q.MaxScan = webmail.MaxBodyScan
	}
	if q.Deadline.IsZero() {
		q.Deadline = time.Now().Add(webmail.BodySearchTime)
	}
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
	page := &webmail.Page{Total: -1}
	matched, read := 0, 0
	for !page.More && !page.Stopped {
		// One row past the cap, if there is one, says the search was cut.
		want := min(searchBatch, q.MaxScan-read+1)
		var rows []listRow
		err := w.listQuery(sctx, mailboxID, folderID, q).Select(listColumns).Order(order).Limit(want).Offset(read).Scan(&rows).Error
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
			mr, err := w.store.Open(sctx, &store.Message{ID: r.ID, UID: r.UID, BlobKey: r.BlobKey, Prefix: r.Prefix})
			if err != nil {
				if stop, err := cut(err); !stop {
					return nil, fmt.Errorf("search message %d: %w", r.UID, err)
				} else if err != nil {
					return nil, err
				}
				page.Stopped = true
				break
			}
			ok := q.Body(mr)
			mr.Close()
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

func (w *webmailMail) Message(ctx context.Context, mailboxID, folderID int64, uid uint32) (*webmail.Summary, error) {
	var rows []listRow
	err := w.listQuery(ctx, mailboxID, folderID, webmail.Query{}).Where("m.uid = ?", uid).Select(listColumns).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("message %d: %w", uid, webmail.ErrNotFound)
	}
	s := rows[0].summary()
	return &s, nil
}

func (w *webmailMail) Open(ctx context.Context, mailboxID, folderID int64, uid uint32) (io.ReadCloser, error) {
	m, err := w.store.Message(ctx, mailboxID, folderID, uid)
	if err != nil {
		return nil, storeError(err)
	}
	r, err := w.store.Open(ctx, m)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (w *webmailMail) SetFlags(ctx context.Context, mailboxID, folderID int64, uids []uint32, flags []webmail.Flag, on bool) error {
	f, err := w.folder(ctx, mailboxID, folderID)
	if err != nil {
		return err
	}
	op := store.FlagsDel
	if on {
		op = store.FlagsAdd
	}
	fl := make(store.Flags, len(flags))
	for i, x := range flags {
		fl[i] = string(x)
	}
	_, err = w.store.StoreFlags(ctx, f.ID, store.RangesOf(uids), op, fl)
	return err
}

func (w *webmailMail) Move(ctx context.Context, mailboxID, folderID int64, uids []uint32, toFolderID int64) error {
	src, err := w.folder(ctx, mailboxID, folderID)
	if err != nil {
		return err
	}
	dst, err := w.folder(ctx, mailboxID, toFolderID)
	if err != nil {
		return err
	}
	// One call, one transaction: a bulk move happens whole or not at all.
	_, err = w.store.Move(ctx, src, dst, store.RangesOf(uids))
	return storeError(err)
}

func (w *webmailMail) Remove(ctx context.Context, mailboxID, folderID int64, uids []uint32) error {
	f, err := w.folder(ctx, mailboxID, folderID)
	if err != nil {
		return err
	}
	if uids == nil {
		if _, err := w.store.StoreFlags(ctx, f.ID, nil, store.FlagsAdd, store.Flags{store.FlagDeleted}); err != nil {
			return err
		}
		_, err := w.store.Expunge(ctx, f, nil)
		return err
	}
	if _, err := w.store.StoreFlags(ctx, f.ID, store.RangesOf(uids), store.FlagsAdd, store.Flags{store.FlagDeleted}); err != nil {
		return err
	}
	_, err = w.store.Expunge(ctx, f, uids)
	return err
}

func (w *webmailMail) Append(ctx context.Context, mailboxID, quota, folderID int64, msg io.Reader, flags []webmail.Flag) (uint32, error) {
	f, err := w.folder(ctx, mailboxID, folderID)
	if err != nil {
		return 0, err
	}
	fl := make(store.Flags, len(flags))
	for i, x := range flags {
		fl[i] = string(x)
	}
	_, uid, err := w.store.Append(ctx, mailboxID, f.Name, quota, msg, w.maxSize, fl, w.now())
	return uid, storeError(err)
}

func (w *webmailMail) Usage(ctx context.Context, mailboxID int64) (int64, error) {
	b, _, err := w.store.Usage(ctx, mailboxID)
	return b, err
}

func (w *webmailMail) Submit(ctx context.Context, login *tenants.Login, remote string, from address.Address, rcpts []address.Address, msg []byte) error {
	if w.submit == nil {
		return &webmail.SubmitError{Message: "Sending is not available on this server.", Err: errors.New("no submission path")}
	}
	return w.submit.Submit(ctx, login, remote, from, rcpts, msg)
}
