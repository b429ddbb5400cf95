package store

import (
	"context"
	"fmt"
)

// MaildropEntry is what a POP3 session keeps of each message from its
// login to its end (RFC 1939 keeps the list fixed for the session).
type MaildropEntry struct {
	UID  uint32
	Size int64
	Seen bool
}

// Maildrop lists a folder's messages in UID order with only what a POP3
// session keeps; the body is opened by UID when asked for (OpenUID).
// The rows are scanned by hand: on a 10,000-message INBOX, reading whole
// Message rows through gorm's reflection was most of a POP3 login.
func (s *Store) Maildrop(ctx context.Context, mailboxID, folderID int64) ([]MaildropEntry, error) {
	rows, err := s.db.Read(ctx).Raw("SELECT uid, size, seen FROM mail_messages WHERE mailbox_id = ? AND folder_id = ? ORDER BY uid",
		mailboxID, folderID).Rows()
	if err != nil {
		return nil, fmt.Errorf("list maildrop: %w", err)
	}
	defer rows.Close()
	var out []MaildropEntry
	for rows.Next() {
		out = append(out, MaildropEntry{})
		e := &out[len(out)-1]
		if err := rows.Scan(&e.UID, &e.Size, &e.Seen); err != nil {
			return nil, fmt.Errorf("list maildrop: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list maildrop: %w", err)
	}
	return out, nil
}

// OpenUID opens the message of a mailbox's folder with this UID: the
// mailbox is part of the lookup, so another mailbox's message is not
// found. A message expunged meanwhile (by an IMAP session) is
// ErrNoMessage.
func (s *Store) OpenUID(ctx context.Context, mailboxID, folderID int64, uid uint32) (*MessageReader, error) {
	m, err := s.Message(ctx, mailboxID, folderID, uid)
	if err != nil {
		return nil, err
	}
	return s.Open(ctx, m)
}
