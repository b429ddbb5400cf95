package imapd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/connlimit"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
)

// connState is the connection a Session serves.
type connState struct {
	remote string
	imap   *imapserver.Conn
}

// Session is one IMAP connection's backend state.
type Session struct {
	srv    *Server
	st     *store.Store
	cs     *connState
	log    *slog.Logger
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc

	mailboxID int64  // 0 until logged in
	user      string // the mailbox's address
	sel       *selected
	unwatch   func() // leaves the session watch
}

var (
	_ imapserver.SessionIMAP4rev2   = (*Session)(nil)
	_ imapserver.SessionAppendLimit = (*Session)(nil)
	_ imapserver.SessionID          = (*Session)(nil)
	_ imapserver.SessionQuota       = (*Session)(nil)
)

func newSession(srv *Server, cs *connState, log *slog.Logger) *Session {
	ctx, cancel := context.WithCancel(srv.ctx)
	return &Session{srv: srv, st: srv.cfg.Store, cs: cs, log: log, ctx: ctx, cancel: cancel}
}

// Close ends the session.
func (s *Session) Close() error {
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
	}
	if s.unwatch != nil {
		s.unwatch()
	}
	s.cancel()
	s.srv.forget(s.cs.imap)
	s.log.Debug("disconnected")
	return nil
}

// Login checks a login through tenants.ResolveLogin (user@domain or
// user/domain, the shared throttle) and makes the mailbox's default
// folders on first use. go-imap refuses it without TLS, unless
// AllowPlaintextAuth (InsecureAuth).
func (s *Session) Login(username, password string) error {
	defer connlimit.Busy(s.cs.imap.NetConn())()
	// A mailbox login: an administrator's bare name is nobody here.
	l, err := s.srv.cfg.Tenants.ResolveLogin(s.ctx, tenants.IMAPLogin, username, password, s.cs.remote)
	var le *tenants.LoginError
	switch {
	case errors.As(err, &le):
		s.log.Info("login refused", "login", truncateLog(username), "reason", le.Error())
		return loginError(le)
	case err != nil:
		return s.fail(err, "log in")
	}
	if err := s.st.EnsureFolders(s.ctx, l.Mailbox.ID); err != nil {
		return s.fail(err, "make default folders")
	}
	s.mailboxID, s.user = l.Mailbox.ID, l.Address.String()
	s.log = s.log.With("user", s.user)
	// Logged in: no longer evicted for new connections nor closed at
	// PreAuthTimeout.
	connlimit.Authenticated(s.cs.imap.NetConn())
	s.unwatch = s.srv.watch().Watch(l, s.end)
	s.log.Info("logged in")
	return nil
}

// end ends a session whose login no longer holds (the account was
// disabled, expired or its password changed): BYE (RFC 9051 7.1.5) between
// two responses, and the connection closes; the next command finds it
// closed.
func (s *Session) end() {
	s.log.Info("session ended: the login no longer holds")
	s.cs.imap.Bye("Session ended: the account changed; log in again")
	s.cancel()
}

// loginError maps tenants' refusal onto IMAP (RFC 5530 codes): what it
// may say is tenants' to decide.
func loginError(le *tenants.LoginError) error {
	code := imap.ResponseCodeAuthenticationFailed
	switch le.Reason {
	case tenants.Locked:
		code = imap.ResponseCodeUnavailable
	case tenants.Inactive:
		code = imap.ResponseCodeContactAdmin
	case tenants.Expired:
		code = imap.ResponseCodeExpired
	}
	text := le.Error()
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: strings.ToUpper(text[:1]) + text[1:]}
}

// AppendLimit is announced as APPENDLIMIT.
func (s *Session) AppendLimit() uint32 {
	return uint32(min(s.srv.cfg.MaxMessageSize, 1<<32-1))
}

// Namespace: one personal namespace, "/" as hierarchy delimiter.
func (s *Session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: delim}}}, nil
}

const delim = '/'

// folderName makes a client's name the store's: no trailing delimiter
// (RFC 9051 6.3.4: it only says children are intended).
func folderName(name string) string {
	return strings.TrimSuffix(name, string(delim))
}

// Create makes a folder, its missing parents too. New folders are not
// subscribed (unless a subscription to the name survived its deletion).
func (s *Session) Create(name string, options *imap.CreateOptions) error {
	name = folderName(name)
	if strings.EqualFold(name, "INBOX") {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlreadyExists, Text: "INBOX always exists"}
	}
	use := ""
	if options != nil && len(options.SpecialUse) > 0 {
		if len(options.SpecialUse) > 1 {
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: codeUseAttr, Text: "One special use per folder"}
		}
		switch a := options.SpecialUse[0]; a {
		case imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrTrash, imap.MailboxAttrJunk, imap.MailboxAttrArchive:
			use = string(a)
		default:
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: codeUseAttr, Text: "Unsupported special use " + string(a)}
		}
	}
	before, err := s.st.Folders(s.ctx, s.mailboxID)
	if err != nil {
		return s.fail(err, "list folders")
	}
	had := map[string]bool{}
	for _, f := range before {
		had[f.Name] = true
	}
	if _, err := s.st.CreateFolder(s.ctx, s.mailboxID, name, use); err != nil {
		return s.fail(err, "create folder")
	}
	subs, err := s.subscriptions()
	if err != nil {
		return s.fail(err, "read subscriptions")
	}
	levels := strings.Split(name, string(delim))
	for i := 1; i <= len(levels); i++ {
		n := strings.Join(levels[:i], string(delim))
		if !had[n] {
			if err := s.st.SetSubscribed(s.ctx, s.mailboxID, n, subs[n]); err != nil && !errors.Is(err, store.ErrNoFolder) {
				return s.fail(err, "set subscription")
			}
		}
	}
	return nil
}

// Delete removes a folder and its messages; sub-folders stay.
func (s *Session) Delete(name string) error {
	if err := s.st.DeleteFolder(s.ctx, s.mailboxID, folderName(name)); err != nil {
		return s.fail(err, "delete folder")
	}
	return nil
}

// Rename renames a folder with its sub-folders.
func (s *Session) Rename(from, to string, options *imap.RenameOptions) error {
	if err := s.st.RenameFolder(s.ctx, s.mailboxID, folderName(from), folderName(to)); err != nil {
		return s.fail(err, "rename folder")
	}
	return nil
}

// Subscribe subscribes a name, which need not exist (RFC 9051 6.3.7).
func (s *Session) Subscribe(name string) error {
	name = folderName(name)
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	if err := store.ValidFolderName(name); err != nil {
		return s.fail(err, "subscribe")
	}
	if err := s.setSubscription(name, true); err != nil {
		return s.fail(err, "subscribe")
	}
	return nil
}

// Unsubscribe removes a subscription.
func (s *Session) Unsubscribe(name string) error {
	name = folderName(name)
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	subs, err := s.subscriptions()
	if err != nil {
		return s.fail(err, "unsubscribe")
	}
	_, err = s.st.Folder(s.ctx, s.mailboxID, name)
	if errors.Is(err, store.ErrNoFolder) && !subs[name] {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "Not subscribed"}
	}
	if err != nil && !errors.Is(err, store.ErrNoFolder) {
		return s.fail(err, "unsubscribe")
	}
	if err := s.setSubscription(name, false); err != nil {
		return s.fail(err, "unsubscribe")
	}
	return nil
}

// Status reports a folder's counts.
func (s *Session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	f, err := s.st.Folder(s.ctx, s.mailboxID, folderName(name))
	if err != nil {
		return nil, s.fail(err, "status")
	}
	return s.status(f, options)
}

func (s *Session) status(f *store.Folder, options *imap.StatusOptions) (*imap.StatusData, error) {
	st, err := s.st.FolderStatus(s.ctx, f)
	if err != nil {
		return nil, s.fail(err, "status")
	}
	d := &imap.StatusData{Mailbox: f.Name, UIDNext: imap.UID(st.UIDNext), UIDValidity: st.UIDValidity}
	num := func(v int64) *uint32 { n := uint32(v); return &n }
	d.NumMessages, d.NumUnseen, d.NumDeleted = num(st.Messages), num(st.Unseen), num(st.Deleted)
	d.Size = &st.Size
	d.AppendLimit = num(int64(s.AppendLimit()))
	d.HighestModSeq = uint64(st.HighestModSeq) // RFC 7162 3.1.2.3
	d.MailboxID = mailboxObjectID(f)           // RFC 8474 4.3
	if options.NumRecent || options.DeletedStorage {
		first, err := s.peekRecent(f.ID)
		if err != nil {
			return nil, s.fail(err, "status")
		}
		c, err := s.st.CountFolder(s.ctx, f.ID, first)
		if err != nil {
			return nil, s.fail(err, "status")
		}
		d.NumRecent = num(c.FromUID)
		d.DeletedStorage = &c.DeletedSize
	}
	return d, nil
}

// Append stores a message in a folder (RFC 9051 6.3.12), within the
// mailbox's quota.
func (s *Session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	f, err := s.st.Folder(s.ctx, s.mailboxID, folderName(name))
	if errors.Is(err, store.ErrNoFolder) {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	}
	if err != nil {
		return nil, s.fail(err, "append")
	}
	quota, err := s.quotaLimit()
	if err != nil {
		return nil, err
	}
	// The date-time's zone is kept: FETCH INTERNALDATE gives it back and
	// SEARCH compares dates in it. Without one, the store takes now in
	// the server's zone.
	f, uid, err := s.st.Append(s.ctx, s.mailboxID, f.Name, quota, r, s.srv.cfg.MaxMessageSize, storeFlags(options.Flags), options.Time)
	if err != nil {
		return nil, s.fail(err, "append")
	}
	s.srv.syncFolder(s.ctx, f.ID)
	return &imap.AppendData{UIDValidity: f.UIDValidity, UID: imap.UID(uid)}, nil
}

// quotaLimit reads the mailbox's quota now (it may have changed since
// login); it also refuses a mailbox disabled meanwhile.
func (s *Session) quotaLimit() (int64, error) {
	l, err := s.srv.cfg.Tenants.SessionLogin(s.ctx, 0, s.mailboxID)
	var le *tenants.LoginError
	if errors.As(err, &le) {
		return 0, loginError(le)
	}
	if err != nil {
		return 0, s.fail(err, "read quota")
	}
	return tenants.EffectiveQuota(l.Mailbox, l.Domain), nil
}

// quota returns usage and limit in bytes for GETQUOTA and GETQUOTAROOT;
// mailbox, if not "", must exist.
func (s *Session) quota(mailbox string) (used, limit int64, err error) {
	if mailbox != "" {
		if _, err := s.st.Folder(s.ctx, s.mailboxID, folderName(mailbox)); err != nil {
			return 0, 0, s.fail(err, "quota")
		}
	}
	limit, err = s.quotaLimit()
	if err != nil {
		return 0, 0, err
	}
	used, _, err = s.st.Usage(s.ctx, s.mailboxID)
	if err != nil {
		return 0, 0, s.fail(err, "quota")
	}
	return used, limit, nil
}

// ID answers RFC 2971's ID: the client's fields are only logged.
func (s *Session) ID(client *imap.IDData) (*imap.IDData, error) {
	if client != nil {
		s.log.Debug("client ID", "name", truncateLog(client.Name), "version", truncateLog(client.Version),
			"os", truncateLog(client.OS), "vendor", truncateLog(client.Vendor))
	}
	return &imap.IDData{Name: "Postdesk"}, nil
}

// QuotaResources: a mailbox's quota is in bytes of mail (RFC 9208 5.1).
func (s *Session) QuotaResources() []imap.QuotaResourceType {
	return []imap.QuotaResourceType{imap.QuotaResourceStorage}
}

// GetQuota answers for the one quota root, "", of the logged-in mailbox
// (RFC 9208 4.2); with no limit it has no resources.
func (s *Session) GetQuota(root string) (*imapserver.QuotaData, error) {
	if root != "" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: `No such quota root; the one root is ""`}
	}
	used, limit, err := s.quota("")
	if err != nil {
		return nil, err
	}
	return quotaData(used, limit), nil
}

// GetQuotaRoot: every folder is under the root "", if the mailbox has a
// limit (RFC 9208 4.3).
func (s *Session) GetQuotaRoot(mailbox string) ([]imapserver.QuotaData, error) {
	used, limit, err := s.quota(mailbox)
	if err != nil || limit <= 0 {
		return nil, err
	}
	return []imapserver.QuotaData{*quotaData(used, limit)}, nil
}

// SetQuota: quotas are the postmaster's, set in the panel.
func (s *Session) SetQuota(string, map[imap.QuotaResourceType]int64) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNoPerm, Text: "Quotas are set by the domain's postmaster"}
}

func quotaData(used, limit int64) *imapserver.QuotaData {
	q := &imapserver.QuotaData{Root: "", Resources: map[imap.QuotaResourceType]imapserver.QuotaResourceData{}}
	if limit > 0 {
		// STORAGE is in units of 1024 octets.
		q.Resources[imap.QuotaResourceStorage] = imapserver.QuotaResourceData{Usage: (used + 1023) / 1024, Limit: limit / 1024}
	}
	return q
}

func truncateLog(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// storeFlags converts flags for the store; \Recent is the server's alone.
func storeFlags(fl []imap.Flag) store.Flags {
	out := make(store.Flags, 0, len(fl))
	for _, f := range fl {
		if strings.EqualFold(string(f), `\Recent`) || f == imap.FlagWildcard {
			continue
		}
		out = append(out, string(f))
	}
	return out
}

// fail turns an error into what the client is told: store and tenant
// errors into NO with a response code (RFC 5530), anything else into a
// logged internal failure. It never returns a plain error: go-imap would
// answer that NO [SERVERBUG] and log it, with no code for the client.
func (s *Session) fail(err error, what string) error {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return ie
	}
	no := func(code imap.ResponseCode, text string) error {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: text}
	}
	switch {
	case errors.Is(err, store.ErrNoFolder):
		return no(imap.ResponseCodeNonExistent, "No such mailbox")
	case errors.Is(err, store.ErrFolderExists):
		return no(imap.ResponseCodeAlreadyExists, "Mailbox already exists")
	case errors.Is(err, store.ErrBadFolderName):
		return no(imap.ResponseCodeCannot, "Invalid mailbox name: "+strings.TrimPrefix(err.Error(), store.ErrBadFolderName.Error()+": "))
	case errors.Is(err, store.ErrInbox):
		return no(imap.ResponseCodeCannot, "INBOX can't be deleted")
	case errors.Is(err, store.ErrTooManyFolders):
		return no(imap.ResponseCodeLimit, fmt.Sprintf("Too many mailboxes: at most %d", store.MaxFolders))
	case errors.Is(err, store.ErrOverQuota):
		return no(imap.ResponseCodeOverQuota, "Over quota")
	case errors.Is(err, store.ErrTooBig):
		return no(imap.ResponseCodeTooBig, "Message too big")
	case errors.Is(err, store.ErrNoMessage):
		return no(imap.ResponseCodeNonExistent, "No such message")
	case errors.Is(err, context.Canceled):
		return no(imap.ResponseCodeUnavailable, "Server shutting down")
	}
	s.log.Error(what, "err", err)
	return no(imap.ResponseCodeUnavailable, "Temporary server failure; try again")
}

// codeUseAttr is RFC 6154's response code for an unsupported special use.
const codeUseAttr imap.ResponseCode = "USEATTR"
