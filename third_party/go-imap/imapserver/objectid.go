package imapserver

// postdesk: OBJECTID (RFC 8474) for a server with imap.CapObjectID in
// Options.Caps (PATCHES.md 24).

// SessionObjectID is a Session whose mailboxes have object ids: CREATE's
// tagged OK carries the new mailbox's (RFC 8474 4.1). Select and Status
// fill SelectData.MailboxID and StatusData.MailboxID; Fetch writes EMAILID
// and THREADID; Search matches SearchCriteria.EmailID and ThreadID.
type SessionObjectID interface {
	Session

	// MailboxID returns a mailbox's object id.
	MailboxID(mailbox string) (string, error)
}

func (c *Conn) writeMailboxID(id string) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("OK").SP().Special('[').Atom("MAILBOXID").SP().Special('(').Atom(id).Special(')').Special(']')
	enc.SP().Text("Ok")
	return enc.CRLF()
}

// WriteEmailID writes the message's EMAILID (RFC 8474 5.1).
func (w *FetchResponseWriter) WriteEmailID(id string) {
	w.writeItemSep()
	w.enc.Atom("EMAILID").SP().Special('(').Atom(id).Special(')')
}

// WriteThreadID writes the message's THREADID (RFC 8474 5.2), NIL if id
// is "": the server has no thread for it.
func (w *FetchResponseWriter) WriteThreadID(id string) {
	w.writeItemSep()
	w.enc.Atom("THREADID").SP()
	if id == "" {
		w.enc.NIL()
		return
	}
	w.enc.Special('(').Atom(id).Special(')')
}
