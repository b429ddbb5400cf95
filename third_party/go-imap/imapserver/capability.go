package imapserver

import (
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

func (c *Conn) handleCapability(dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}

	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("CAPABILITY")
	for _, c := range c.availableCaps() {
		enc.SP().Atom(string(c))
	}
	return enc.CRLF()
}

// availableCaps returns the capabilities supported by the server.
//
// They depend on the connection state.
//
// Some extensions (e.g. SASL-IR, ENABLE) don't require backend support and
// thus are always enabled.
func (c *Conn) availableCaps() []imap.Cap {
	available := c.server.options.caps()

	var caps []imap.Cap
	addAvailableCaps(&caps, available, []imap.Cap{
		imap.CapIMAP4rev2,
		imap.CapIMAP4rev1,
	})
	if len(caps) == 0 {
		panic("imapserver: must support at least IMAP4rev1 or IMAP4rev2")
	}

	if available.Has(imap.CapIMAP4rev1) {
		caps = append(caps, []imap.Cap{
			imap.CapSASLIR,
			imap.CapLiteralMinus,
		}...)
	}
	if c.canStartTLS() {
		caps = append(caps, imap.CapStartTLS)
	}
	if c.canAuth() {
		mechs := []string{"PLAIN"}
		if authSess, ok := c.session.(SessionSASL); ok {
			mechs = authSess.AuthenticateMechanisms()
		}
		for _, mech := range mechs {
			caps = append(caps, imap.Cap("AUTH="+mech))
		}
	} else if c.state == imap.ConnStateNotAuthenticated {
		caps = append(caps, imap.CapLoginDisabled)
	}
	if c.state == imap.ConnStateAuthenticated || c.state == imap.ConnStateSelected {
		if available.Has(imap.CapIMAP4rev1) {
			// IMAP4rev1-specific capabilities that don't require backend
			// support and are not applicable to IMAP4rev2
			caps = append(caps, []imap.Cap{
				imap.CapUnselect,
				imap.CapEnable,
				imap.CapIdle,
				imap.CapUTF8Accept,
			}...)

			// IMAP4rev1-specific capabilities which require backend support
			// and are not applicable to IMAP4rev2
			addAvailableCaps(&caps, available, []imap.Cap{
				imap.CapNamespace,
				imap.CapUIDPlus,
				imap.CapESearch,
				imap.CapSearchRes,
				imap.CapListExtended,
				imap.CapListStatus,
				imap.CapMove,
				imap.CapStatusSize,
				imap.CapBinary,
				imap.CapChildren,
			})
		}

		// Capabilities which require backend support and apply to both
		// IMAP4rev1 and IMAP4rev2
		addAvailableCaps(&caps, available, []imap.Cap{
			imap.CapSpecialUse,
			imap.CapCreateSpecialUse,
			imap.CapLiteralPlus,
			imap.CapUnauthenticate,
			imap.CapWithin,   // postdesk: RFC 5032
			imap.CapObjectID, // postdesk: RFC 8474
			imap.CapPreview,  // postdesk: RFC 8970
			imap.CapSaveDate, // postdesk: RFC 8514
		})

		// postdesk: QUOTA (RFC 9208 3.1, 7) for sessions that implement it.
		if quotaSession, ok := c.session.(SessionQuota); ok {
			caps = append(caps, imap.CapQuota)
			for _, res := range quotaSession.QuotaResources() {
				caps = append(caps, imap.Cap("QUOTA=RES-"+string(res)))
			}
			addAvailableCaps(&caps, available, []imap.Cap{imap.CapQuotaSet})
		}

		// postdesk: CONDSTORE and QRESYNC (RFC 7162) for sessions that
		// implement them.
		if c.condStoreSession() != nil {
			caps = append(caps, imap.CapCondStore)
		}
		if c.qresyncSession() != nil {
			caps = append(caps, imap.CapQResync)
		}
		// postdesk: SORT and THREAD (RFC 5256), sort.go.
		caps = append(caps, c.sortCaps()...)
		if _, ok := c.session.(SessionSearchContext); ok {
			caps = append(caps, imap.CapContextSearch) // postdesk: RFC 5267
		}
		// postdesk: MULTIAPPEND (RFC 3502), multiappend.go.
		if _, ok := c.session.(SessionMultiAppend); ok {
			caps = append(caps, imap.CapMultiAppend)
		}

		if appendLimitSession, ok := c.session.(SessionAppendLimit); ok {
			limit := appendLimitSession.AppendLimit()
			caps = append(caps, imap.Cap(fmt.Sprintf("APPENDLIMIT=%d", limit)))
		} else {
			addAvailableCaps(&caps, available, []imap.Cap{imap.CapAppendLimit})
		}
	}
	// postdesk: ID (RFC 2971) in any state, for sessions that implement it.
	if _, ok := c.session.(SessionID); ok {
		caps = append(caps, imap.CapID)
	}
	return caps
}

func addAvailableCaps(caps *[]imap.Cap, available imap.CapSet, l []imap.Cap) {
	for _, c := range l {
		if available.Has(c) {
			*caps = append(*caps, c)
		}
	}
}
