package imap

// SelectOptions contains options for the SELECT or EXAMINE command.
type SelectOptions struct {
	ReadOnly  bool
	CondStore bool // requires CONDSTORE

	// QResync holds the QRESYNC parameter (RFC 7162 3.2.5), nil if none.
	//
	// postdesk: requires QRESYNC; upstream had no field for it.
	QResync *SelectQResync
}

// SelectQResync is the QRESYNC parameter of SELECT and EXAMINE: what the
// client knew of the mailbox when it last had it selected.
//
// postdesk: requires QRESYNC.
type SelectQResync struct {
	UIDValidity uint32
	ModSeq      uint64
	// KnownUIDs are the UIDs the client knows; nil: all.
	KnownUIDs UIDSet
	// SeqMatch, optional, pairs sequence numbers the client knows with
	// their UIDs.
	SeqMatch *SelectSeqMatch
}

// SelectSeqMatch is QRESYNC's sequence match data (RFC 7162 3.2.5.2).
type SelectSeqMatch struct {
	SeqNums SeqSet
	UIDs    UIDSet
}

// SelectData is the data returned by a SELECT command.
//
// In the old RFC 2060, PermanentFlags, UIDNext and UIDValidity are optional.
type SelectData struct {
	// Flags defined for this mailbox
	Flags []Flag
	// Flags that the client can change permanently
	PermanentFlags []Flag
	// Number of messages in this mailbox (aka. "EXISTS")
	NumMessages uint32
	// Sequence number of the first unseen message. Obsolete, IMAP4rev1 only.
	// Server-only, not supported in imapclient.
	FirstUnseenSeqNum uint32
	// Number of recent messages in this mailbox. Obsolete, IMAP4rev1 only.
	// Server-only, not supported in imapclient.
	NumRecent   uint32
	UIDNext     UID
	UIDValidity uint32

	List *ListData // requires IMAP4rev2

	HighestModSeq uint64 // requires CONDSTORE

	// MailboxID is the mailbox's object id (RFC 8474 4.2).
	//
	// postdesk: requires OBJECTID.
	MailboxID string

	// ReadOnly indicates that the mailbox is read-only.
	ReadOnly bool
}
