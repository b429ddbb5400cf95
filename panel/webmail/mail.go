package webmail

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/emersion/go-message/textproto"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// Mail is the message store and the submission path as webmail uses them;
// cmd/postdesk implements it over mailsvc, the same store and submission
// code IMAP, POP3 and SMTP use. Every method takes the signed-in mailbox's
// id and finds only that mailbox's folders and messages: a folder id or UID
// of another mailbox is ErrNotFound, never someone else's data.
type Mail interface {
	// Folders lists the mailbox's folders by name with their counts. It
	// writes nothing: pages (GET) call it.
	Folders(ctx context.Context, mailboxID int64) ([]Folder, error)
	// EnsureFolders creates the special-use folders the mailbox lacks
	// (INBOX, Sent, Drafts, Trash, ...), as an IMAP login does: at sign-in
	// and before a change (POST) that files into them.
	EnsureFolders(ctx context.Context, mailboxID int64) error
	CreateFolder(ctx context.Context, mailboxID int64, name string) error
	RenameFolder(ctx context.Context, mailboxID, folderID int64, name string) error
	// DeleteFolder removes a folder and its messages.
	DeleteFolder(ctx context.Context, mailboxID, folderID int64) error
	// List returns one page of a folder's messages, newest first, from the
	// metadata stored at delivery; only a Body search reads bodies.
	List(ctx context.Context, mailboxID, folderID int64, q Query) (*Page, error)
	// Message returns one message's list entry.
	Message(ctx context.Context, mailboxID, folderID int64, uid uint32) (*Summary, error)
	// Open reads a message as stored (RFC 5322 bytes).
	Open(ctx context.Context, mailboxID, folderID int64, uid uint32) (io.ReadCloser, error)
	// Walk reads a message part by part through the parts the store
	// recorded at delivery: it returns the message's header and calls
	// visit, depth first, for every leaf (a part that is not a multipart;
	// an attached message is one) with the leaf's header and its body as
	// stored (transfer-encoded). Past the store's MIME limits it returns
	// ErrMIMELimit after the leaves before them; when ctx ends, ctx's
	// error, within a leaf too; an error of visit is returned as it is.
	Walk(ctx context.Context, mailboxID, folderID int64, uid uint32, visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error)
	// SetFlags adds (on) or removes flags of messages.
	SetFlags(ctx context.Context, mailboxID, folderID int64, uids []uint32, flags []Flag, on bool) error
	// Move moves messages to another folder of the same mailbox.
	Move(ctx context.Context, mailboxID, folderID int64, uids []uint32, toFolderID int64) error
	// Remove deletes messages for good; uids nil means all of the folder's.
	Remove(ctx context.Context, mailboxID, folderID int64, uids []uint32) error
	// Append stores a message in a folder, counted against quota (bytes;
	// 0: unlimited): ErrOverQuota when it does not fit.
	Append(ctx context.Context, mailboxID, quota, folderID int64, msg io.Reader, flags []Flag) (uint32, error)
	// Usage is the bytes the mailbox stores.
	Usage(ctx context.Context, mailboxID int64) (int64, error)
	// Submit sends a message as SMTP submission with AUTH would: the same
	// sender check, rate limits, local delivery and outbound queue. A
	// refusal the user can act on is a *SubmitError. remote is the
	// client's address, for the trace header and the logs.
	Submit(ctx context.Context, login *tenants.Login, remote string, from address.Address, rcpts []address.Address, msg []byte) error
}

// Errors a Mail implementation returns (wrapped).
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("a folder of that name exists")
	ErrBadName    = errors.New("bad folder name")
	ErrOverQuota  = errors.New("mailbox full")
	ErrTooBig     = errors.New("message too big")
	ErrNotAllowed = errors.New("not allowed")
	// ErrTooManyFolders: the mailbox has as many folders as it may.
	ErrTooManyFolders = errors.New("too many folders")
	// ErrMIMELimit: a walk stopped at the store's MIME limits (nesting
	// depth, parts), so that reading never takes time that grows with a
	// hostile message.
	ErrMIMELimit = errors.New("MIME limits reached")
)

// Flag is an IMAP system flag, the vocabulary webmail and IMAP share.
type Flag string

// The flags webmail sets.
const (
	FlagSeen     Flag = `\Seen`
	FlagAnswered Flag = `\Answered`
	FlagFlagged  Flag = `\Flagged`
	FlagDraft    Flag = `\Draft`
)

// Special-use attributes (RFC 6154) of the folders webmail files into.
const (
	UseSent   = `\Sent`
	UseDrafts = `\Drafts`
	UseTrash  = `\Trash`
	UseJunk   = `\Junk`
)

// Folder is one folder with its counts.
type Folder struct {
	ID         int64
	Name       string // hierarchy levels separated by "/"
	SpecialUse string
	Messages   int64
	Unseen     int64
}

// Query selects and pages a folder's messages. Text filters match parts
// of the stored header fields, case-insensitively; all given must match.
type Query struct {
	From, To, Subject string
	// Body, when set, makes the list a body search: it is asked with the
	// decoded text of each text/plain and text/html part (html says which)
	// of every message that passed the other filters, the text parts the
	// store recorded at delivery, and keeps the messages it returns true
	// for. Such a search reads messages newest first until it has the page
	// and one match more (Page.More), not to the end to count them; it
	// stops early (Page.Stopped) after MaxScan messages or at Deadline,
	// which a body search must give (the page gives MaxBodyScan and
	// BodySearchTime).
	Body     func(text string, html bool) bool
	MaxScan  int
	Deadline time.Time
	Offset   int
	Limit    int
}

// The bounds of one body search: it reads at most MaxBodyScan messages,
// for at most BodySearchTime.
const (
	MaxBodyScan    = 5000
	BodySearchTime = 10 * time.Second
)

// Page is a page of a folder's messages.
type Page struct {
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

// Summary is a message as the list shows it, from stored metadata.
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
