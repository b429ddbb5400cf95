package imap

import (
	"time"
)

// AppendOptions contains options for the APPEND command.
type AppendOptions struct {
	Flags []Flag
	Time  time.Time

	// Binary is set by the server when the message came as a literal8
	// ("~{n}", BINARY, RFC 3516 4.2): it may hold NUL bytes, which a
	// literal may not, so the server stores it in a form it can send
	// back (RFC 3516 4.2 lets it change the transfer encoding).
	//
	// postdesk: upstream dropped the "~".
	Binary bool
}

// AppendData is the data returned by an APPEND command.
type AppendData struct {
	// requires UIDPLUS or IMAP4rev2
	UID         UID
	UIDValidity uint32
}
