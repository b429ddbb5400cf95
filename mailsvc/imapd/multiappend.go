package imapd

import (
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/store"
)

// MULTIAPPEND (RFC 3502): every APPEND, of one message or several, is
// written to pending blobs as its literals arrive and stored in one
// transaction at its end (store.AppendMany), all messages or none.

var _ imapserver.SessionMultiAppend = (*Session)(nil)

// maxAppendMessages bounds the messages of one APPEND: each is a pending
// file until the command ends.
const maxAppendMessages = 1000

// BeginAppend starts an APPEND to a folder, which must exist (TRYCREATE,
// RFC 9051 6.3.12).
func (s *Session) BeginAppend(name string) (imapserver.Appender, error) {
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
	used := int64(0)
	if quota > 0 {
		if used, _, err = s.st.Usage(s.ctx, s.mailboxID); err != nil {
			return nil, s.fail(err, "append")
		}
	}
	return &appender{s: s, folder: f, quota: quota, used: used}, nil
}

type appender struct {
	s      *Session
	folder *store.Folder
	quota  int64
	used   int64 // the mailbox's usage and the messages held so far
	msgs   []store.AppendMsg
}

// Add writes a message to a pending blob, refusing it at once if it is
// too big or takes the mailbox over its quota (checked again, for all of
// them together, when they are stored).
func (a *appender) Add(r imap.LiteralReader, options *imap.AppendOptions) error {
	s := a.s
	if len(a.msgs) == maxAppendMessages {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit,
			Text: fmt.Sprintf("At most %d messages in one APPEND", maxAppendMessages)}
	}
	p, err := s.st.Blobs().Create(s.ctx)
	if err != nil {
		return s.fail(err, "append")
	}
	n, err := io.Copy(p, io.LimitReader(r, s.srv.cfg.MaxMessageSize+1))
	if err == nil && n > s.srv.cfg.MaxMessageSize {
		err = store.ErrTooBig
	}
	if err == nil && a.quota > 0 && a.used+n > a.quota {
		err = store.ErrOverQuota
	}
	if err == nil && options.Binary {
		var safe blob.Pending
		if safe, err = s.binarySafe(p); err == nil {
			p, n = safe, safe.Size()
		}
	}
	if err != nil {
		p.Abort()
		return s.fail(err, "append")
	}
	a.used += n
	// The date-time's zone is kept: FETCH INTERNALDATE gives it back and
	// SEARCH compares dates in it. Without one, the store takes now.
	a.msgs = append(a.msgs, store.AppendMsg{Blob: p, Flags: storeFlags(options.Flags), Date: options.Time})
	return nil
}

func (a *appender) Commit() (uint32, []imap.UID, error) {
	s := a.s
	msgs := a.msgs
	a.msgs = nil
	f, uids, err := s.st.AppendMany(s.ctx, s.mailboxID, a.folder.Name, a.quota, msgs)
	if err != nil {
		return 0, nil, s.fail(err, "append")
	}
	s.srv.syncFolder(s.ctx, f.ID)
	out := make([]imap.UID, len(uids))
	for i, u := range uids {
		out[i] = imap.UID(u)
	}
	return f.UIDValidity, out, nil
}

func (a *appender) Abort() {
	for _, m := range a.msgs {
		m.Blob.Abort()
	}
	a.msgs = nil
}
