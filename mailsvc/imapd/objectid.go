package imapd

import (
	"strconv"

	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// OBJECTID (RFC 8474). A folder's MAILBOXID is its row's id, which a
// rename keeps and a new folder never reuses. A message's EMAILID is its
// body's blob key, which COPY and MOVE keep and every APPEND or delivery
// makes anew. THREADID is NIL: threads are not kept.

var _ imapserver.SessionObjectID = (*Session)(nil)

func mailboxObjectID(f *store.Folder) string { return "F" + strconv.FormatInt(f.ID, 10) }

func emailID(m *store.Message) string { return "M" + m.BlobKey }

// MailboxID is a folder's MAILBOXID, for CREATE's tagged OK (RFC 8474
// 4.1).
func (s *Session) MailboxID(name string) (string, error) {
	f, err := s.st.Folder(s.ctx, s.mailboxID, folderName(name))
	if err != nil {
		return "", s.fail(err, "create")
	}
	return mailboxObjectID(f), nil
}
