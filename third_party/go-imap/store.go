package imap

// StoreOptions contains options for the STORE command.
type StoreOptions struct {
	UnchangedSince uint64 // requires CONDSTORE

	// HasUnchangedSince tells UNCHANGEDSINCE 0, which no message passes
	// (RFC 7162 3.1.3), from no UNCHANGEDSINCE; set by the server when
	// it reads the modifier.
	//
	// postdesk: upstream could not express UNCHANGEDSINCE 0.
	HasUnchangedSince bool
}

// StoreFlagsOp is a flag operation: set, add or delete.
type StoreFlagsOp int

const (
	StoreFlagsSet StoreFlagsOp = iota
	StoreFlagsAdd
	StoreFlagsDel
)

// StoreFlags alters message flags.
type StoreFlags struct {
	Op     StoreFlagsOp
	Silent bool
	Flags  []Flag
}
