package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/emersion/go-message/textproto"

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
	var id [6]byte
	rand.Read(id[:])
	t := delivery.Trace{Remote: remote, By: s.hostname, Product: "Postdesk webmail", With: "HTTP", ID: fmt.Sprintf("%x", id), Date: s.now()}
	if len(rcpts) == 1 {
		t.For = rcpts[0]
	}
	received := delivery.Received(t)
	_, err := s.deliverer.Submit(ctx, &delivery.Submission{Login: login, Remote: remote, From: from, Rcpts: rcpts,
		Body: bytes.NewReader(msg), Received: received, MaxSize: s.maxSize})
	return submitError(err)
}

// submitError maps delivery's refusals onto webmail's (which words them
// for the user); other errors stay as they are.
func submitError(err error) error {
	var re *delivery.RecipientError
	refused := func(r webmail.Refusal, rcpt address.Address) error {
		return &webmail.SubmitError{Refusal: r, Rcpt: rcpt, Err: err}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, delivery.ErrMayNotSend):
		return refused(webmail.RefusedMayNotSend, address.Address{})
	case errors.Is(err, delivery.ErrNotYourSender):
		return refused(webmail.RefusedNotYourSender, address.Address{})
	case errors.Is(err, delivery.ErrNoRecipients):
		return refused(webmail.RefusedNoRecipients, address.Address{})
	case errors.Is(err, delivery.ErrLoop):
		return refused(webmail.RefusedLoop, address.Address{})
	case errors.Is(err, store.ErrTooBig):
		return fmt.Errorf("%w: %w", webmail.ErrTooBig, err)
	case errors.As(err, &re):
		switch {
		case errors.Is(err, tenants.ErrNoSuchUser):
			return refused(webmail.RefusedNoMailbox, re.Rcpt)
		case errors.Is(err, tenants.ErrDisabled):
			return refused(webmail.RefusedDisabled, re.Rcpt)
		case errors.Is(err, delivery.ErrMailboxFull):
			return refused(webmail.RefusedMailboxFull, re.Rcpt)
		case errors.Is(err, delivery.ErrTooBigForMailbox):
			return refused(webmail.RefusedTooBigForRcpt, re.Rcpt)
		case errors.Is(err, delivery.ErrNoQueue):
			return refused(webmail.RefusedNoQueue, re.Rcpt)
		}
		return refused(webmail.RefusedUnreachable, re.Rcpt)
	case errors.Is(err, delivery.ErrRateLimited):
		return refused(webmail.RefusedRateLimit, address.Address{})
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
	return &webmail.Config{Mail: m, MaxMessageBytes: m.maxSize, Now: m.now}
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
	case errors.Is(err, store.ErrMIMELimit):
		return fmt.Errorf("%w: %w", webmail.ErrMIMELimit, err)
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
	counts, err := w.store.MessageCounts(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	out := make([]webmail.Folder, len(fs))
	for i, f := range fs {
		c := counts[f.ID]
		out[i] = webmail.Folder{ID: f.ID, Name: f.Name, SpecialUse: f.SpecialUse, Messages: c.Messages, Unseen: c.Unseen}
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

func summary(s *store.Summary) webmail.Summary {
	return webmail.Summary{FolderID: s.FolderID, UID: s.UID, Subject: s.Subject, From: s.From, To: s.To, Date: s.Date,
		Size: s.Size, Seen: s.Seen, Flagged: s.Flagged, Answered: s.Answered, Draft: s.Draft, Attachments: s.Attachments}
}

// List pages a folder through the store (Summaries).
func (w *webmailMail) List(ctx context.Context, mailboxID, folderID int64, q webmail.Query) (*webmail.Page, error) {
	sq := store.SummaryQuery{From: q.From, To: q.To, Subject: q.Subject, MaxScan: q.MaxScan, Deadline: q.Deadline,
		Offset: q.Offset, Limit: q.Limit}
	if q.Body != nil {
		sq.Body = func(subtype, text string) bool { return q.Body(text, subtype == "html") }
	}
	pg, err := w.store.Summaries(ctx, mailboxID, folderID, sq)
	if err != nil {
		return nil, storeError(err)
	}
	out := &webmail.Page{Total: pg.Total, More: pg.More, Stopped: pg.Stopped, Messages: make([]webmail.Summary, len(pg.Messages))}
	for i := range pg.Messages {
		out.Messages[i] = summary(&pg.Messages[i])
	}
	return out, nil
}

func (w *webmailMail) Message(ctx context.Context, mailboxID, folderID int64, uid uint32) (*webmail.Summary, error) {
	s, err := w.store.Summary(ctx, mailboxID, folderID, uid)
	if err != nil {
		return nil, storeError(err)
	}
	out := summary(s)
	return &out, nil
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

// Walk reads a message through the parts the store recorded at delivery.
func (w *webmailMail) Walk(ctx context.Context, mailboxID, folderID int64, uid uint32, visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
	h, err := w.store.WalkMessage(ctx, mailboxID, folderID, uid, visit)
	return h, storeError(err)
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
		return &webmail.SubmitError{Refusal: webmail.RefusedUnavailable, Err: errors.New("no submission path")}
	}
	return w.submit.Submit(ctx, login, remote, from, rcpts, msg)
}
