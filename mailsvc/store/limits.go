package store

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// MaxFolders is the most folders a mailbox may have, INBOX and the
// special-use folders included: every webmail page and every IMAP LIST
// shows them all.
const MaxFolders = 1000

// ErrTooManyFolders refuses a folder that would take a mailbox past
// MaxFolders.
var ErrTooManyFolders = errors.New("too many folders")

// checkFolderLimit returns ErrTooManyFolders (wrapped) when adding those
// of names that do not exist yet would give the mailbox more than
// MaxFolders folders. It runs in the transaction that adds them.
//
// Two transactions adding folders to one mailbox at once may each see the
// other's folders missing (PostgreSQL, READ COMMITTED), so the bound can be
// passed by the number of such concurrent additions, never more.
func checkFolderLimit(tx *gorm.DB, mailboxID int64, names []string) error {
	var have, exist int64
	if err := tx.Model(&Folder{}).Where("mailbox_id = ?", mailboxID).Count(&have).Error; err != nil {
		return fmt.Errorf("count folders: %w", err)
	}
	if have+int64(len(names)) <= MaxFolders {
		return nil
	}
	if err := tx.Model(&Folder{}).Where("mailbox_id = ? AND name IN ?", mailboxID, names).Count(&exist).Error; err != nil {
		return fmt.Errorf("count folders: %w", err)
	}
	if have+int64(len(names))-exist > MaxFolders {
		return fmt.Errorf("%w: a mailbox may have at most %d", ErrTooManyFolders, MaxFolders)
	}
	return nil
}

// withParents returns name and the names of the folders above it:
// "a/b/c" gives "a", "a/b" and "a/b/c".
func withParents(name string) []string {
	levels := strings.Split(name, "/")
	names := make([]string, len(levels))
	for i := range levels {
		names[i] = strings.Join(levels[:i+1], "/")
	}
	return names
}

// renameAdds returns the folders renaming from to to may add: the folders
// above to, and to itself when from is INBOX (which stays).
func renameAdds(from, to string) []string {
	names := withParents(to)
	if from != "INBOX" {
		names = names[:len(names)-1]
	}
	return names
}
