package imapserver

// postdesk: SAVEDATE (RFC 8514) for a server with imap.CapSaveDate in
// Options.Caps (PATCHES.md 26).

import (
	"time"

	"github.com/emersion/go-imap/v2/internal"
)

// WriteSaveDate writes the message's SAVEDATE (RFC 8514 4.1), NIL if nil:
// the mailbox keeps no save dates.
func (w *FetchResponseWriter) WriteSaveDate(t *time.Time) {
	w.writeItemSep()
	w.enc.Atom("SAVEDATE").SP()
	if t == nil {
		w.enc.NIL()
		return
	}
	w.enc.String(t.Format(internal.DateTimeLayout))
}
