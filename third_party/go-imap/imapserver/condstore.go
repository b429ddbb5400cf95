package imapserver

// postdesk: CONDSTORE and QRESYNC (RFC 7162) for a Session implementing
// SessionCondStore, and SessionQResync (PATCHES.md 20).

import (
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// SessionCondStore is a Session that keeps a mod-sequence per message and
// supports CONDSTORE (RFC 7162 3.1): its Select fills
// SelectData.HighestModSeq, its Status StatusData.HighestModSeq when asked,
// its Fetch honours FetchOptions.ModSeq and ChangedSince, its Store
// StoreOptions.UnchangedSince (reporting failures with
// FetchWriter.WriteModified), its Search SearchCriteria.ModSeq (setting
// SearchData.ModSeq). Once CONDSTORE is enabled (Conn.EnabledCaps), every
// FETCH response with FLAGS carries MODSEQ too (RFC 7162 3.1.4).
type SessionCondStore interface {
	Session

	// HighestModSeq returns the selected mailbox's highest mod-sequence,
	// for the untagged OK [HIGHESTMODSEQ] sent when a command other than
	// SELECT enables CONDSTORE in the selected state (RFC 7162 3.1).
	HighestModSeq() (uint64, error)
}

// SessionQResync is a SessionCondStore that supports QRESYNC (RFC 7162
// 3.2): once it is enabled, expunges are reported with
// UpdateWriter.WriteVanished instead of EXPUNGE, and its Fetch honours
// FetchOptions.Vanished.
type SessionQResync interface {
	SessionCondStore

	// ResyncSelected answers SELECT or EXAMINE's QRESYNC parameter, after
	// the mailbox was selected with a UIDVALIDITY equal to the client's:
	// a VANISHED (EARLIER) response for the known UIDs expunged since
	// params.ModSeq, then a FETCH (UID FLAGS MODSEQ) for each message
	// changed since (RFC 7162 3.2.5.1).
	ResyncSelected(w *FetchWriter, params *imap.SelectQResync) error
}

func (c *Conn) condStoreSession() SessionCondStore {
	s, _ := c.session.(SessionCondStore)
	return s
}

func (c *Conn) qresyncSession() SessionQResync {
	s, _ := c.session.(SessionQResync)
	return s
}

func (c *Conn) hasEnabled(cap imap.Cap) bool {
	c.mutex.Lock()
	defer c.mutex.Unlock()
	return c.enabled.Has(cap)
}

// enableCondStore marks CONDSTORE enabled by a CONDSTORE enabling command
// (RFC 7162 3.1); the first one in the selected state also reports the
// mailbox's HIGHESTMODSEQ.
func (c *Conn) enableCondStore() error {
	sess := c.condStoreSession()
	if sess == nil {
		return newClientBugError("CONDSTORE is not supported")
	}
	c.mutex.Lock()
	was := c.enabled.Has(imap.CapCondStore)
	c.enabled[imap.CapCondStore] = struct{}{}
	c.mutex.Unlock()
	if was || c.state != imap.ConnStateSelected {
		return nil
	}
	modSeq, err := sess.HighestModSeq()
	if err != nil {
		return err
	}
	return c.writeHighestModSeq(modSeq)
}

func (c *Conn) writeHighestModSeq(modSeq uint64) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("OK").SP()
	if modSeq == 0 {
		enc.Special('[').Atom("NOMODSEQ").Special(']').SP().Text("No permanent modsequences")
	} else {
		enc.Special('[').Atom("HIGHESTMODSEQ").SP().ModSeq(modSeq).Special(']').SP().Text("Highest")
	}
	return enc.CRLF()
}

// readSelectParams reads SELECT and EXAMINE's parameters (RFC 4466 2.4):
// CONDSTORE and QRESYNC.
func (c *Conn) readSelectParams(dec *imapwire.Decoder, options *imap.SelectOptions) error {
	return dec.ExpectList(func() error {
		var name string
		if !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		switch strings.ToUpper(name) {
		case "CONDSTORE":
			if c.condStoreSession() == nil {
				return newClientBugError("CONDSTORE is not supported")
			}
			options.CondStore = true
		case "QRESYNC":
			// RFC 7162 3.2.5: BAD unless QRESYNC was enabled.
			if c.qresyncSession() == nil || !c.hasEnabled(imap.CapQResync) {
				return newClientBugError("QRESYNC is not enabled")
			}
			var q imap.SelectQResync
			if !dec.ExpectSP() {
				return dec.Err()
			}
			err := dec.ExpectList(func() error {
				if !dec.ExpectNumber(&q.UIDValidity) || !dec.ExpectSP() || !dec.ExpectModSeq(&q.ModSeq) {
					return dec.Err()
				}
				if q.UIDValidity == 0 || q.ModSeq == 0 {
					return newClientBugError("QRESYNC's UIDVALIDITY and mod-sequence are non-zero")
				}
				if !dec.SP() {
					return nil
				}
				if !dec.Special('(') {
					if !dec.ExpectUIDSet(&q.KnownUIDs) {
						return dec.Err()
					}
					if !dec.SP() {
						return nil
					}
					if !dec.ExpectSpecial('(') {
						return dec.Err()
					}
				}
				var m imap.SelectSeqMatch
				var seqs imap.NumSet
				if !dec.ExpectNumSet(imapwire.NumKindSeq, &seqs) || !dec.ExpectSP() || !dec.ExpectUIDSet(&m.UIDs) || !dec.ExpectSpecial(')') {
					return dec.Err()
				}
				m.SeqNums = seqs.(imap.SeqSet)
				q.SeqMatch = &m
				return nil
			})
			if err != nil {
				return err
			}
			options.CondStore = true
			options.QResync = &q
		default:
			return newClientBugError("Unknown SELECT parameter")
		}
		return nil
	})
}

// readFetchModifiers reads FETCH's modifiers (RFC 4466 2.4): CHANGEDSINCE
// and, for UID FETCH with QRESYNC enabled, VANISHED.
func (c *Conn) readFetchModifiers(dec *imapwire.Decoder, numKind NumKind, options *imap.FetchOptions) error {
	changedSince := false
	err := dec.ExpectList(func() error {
		var name string
		if !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		switch strings.ToUpper(name) {
		case "CHANGEDSINCE":
			if c.condStoreSession() == nil {
				return newClientBugError("CONDSTORE is not supported")
			}
			if !dec.ExpectSP() || !dec.ExpectModSeq(&options.ChangedSince) {
				return dec.Err()
			}
			changedSince = true
		case "LAZY":
			// postdesk: "FETCH 1 PREVIEW (LAZY)", PREVIEW's modifier
			// after an item outside a list (RFC 8970 3).
			if !options.Preview {
				return newClientBugError("LAZY needs PREVIEW")
			}
			options.PreviewLazy = true
		case "VANISHED":
			// RFC 7162 3.2.6: UID FETCH only, QRESYNC enabled.
			if numKind != NumKindUID || c.qresyncSession() == nil || !c.hasEnabled(imap.CapQResync) {
				return newClientBugError("VANISHED needs UID FETCH and QRESYNC enabled")
			}
			options.Vanished = true
		default:
			return newClientBugError("Unknown FETCH modifier")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if options.Vanished && !changedSince {
		return newClientBugError("VANISHED needs CHANGEDSINCE")
	}
	if changedSince {
		options.ModSeq = true // RFC 7162 3.1.4.1
	}
	return nil
}

// readStoreModifiers reads STORE's modifiers, if there is a list of them:
// UNCHANGEDSINCE.
func (c *Conn) readStoreModifiers(dec *imapwire.Decoder, options *imap.StoreOptions) (bool, error) {
	return dec.List(func() error {
		var name string
		if !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		if !strings.EqualFold(name, "UNCHANGEDSINCE") {
			return newClientBugError("Unknown STORE modifier")
		}
		if c.condStoreSession() == nil {
			return newClientBugError("CONDSTORE is not supported")
		}
		if !dec.ExpectSP() || !dec.ExpectModSeq(&options.UnchangedSince) {
			return dec.Err()
		}
		options.HasUnchangedSince = true
		return nil
	})
}

// readSearchKeyModSeq reads the arguments of the MODSEQ search key (RFC
// 7162 3.1.5): an optional entry name and type, then a mod-sequence.
func readSearchKeyModSeq(criteria *imap.SearchCriteria, dec *imapwire.Decoder) error {
	if !dec.ExpectSP() {
		return dec.Err()
	}
	var ms imap.SearchCriteriaModSeq
	if dec.Quoted(&ms.MetadataName) {
		var typ string
		if !dec.ExpectSP() || !dec.ExpectAtom(&typ) || !dec.ExpectSP() {
			return dec.Err()
		}
		switch t := imap.SearchCriteriaMetadataType(strings.ToLower(typ)); t {
		case imap.SearchCriteriaMetadataAll, imap.SearchCriteriaMetadataPrivate, imap.SearchCriteriaMetadataShared:
			ms.MetadataType = t
		default:
			return newClientBugError("Unknown MODSEQ entry type")
		}
	}
	if !dec.ExpectModSeq(&ms.ModSeq) {
		return dec.Err()
	}
	// Two MODSEQ keys ANDed: the higher one.
	if criteria.ModSeq == nil || criteria.ModSeq.ModSeq < ms.ModSeq {
		criteria.ModSeq = &ms
	}
	return nil
}

// searchUsesModSeq reports whether criteria has a MODSEQ key anywhere:
// then the result carries MODSEQ (RFC 7162 3.1.5).
func searchUsesModSeq(criteria *imap.SearchCriteria) bool {
	if criteria.ModSeq != nil {
		return true
	}
	for i := range criteria.Not {
		if searchUsesModSeq(&criteria.Not[i]) {
			return true
		}
	}
	for i := range criteria.Or {
		if searchUsesModSeq(&criteria.Or[i][0]) || searchUsesModSeq(&criteria.Or[i][1]) {
			return true
		}
	}
	return false
}

// WriteModSeq writes the message's mod-sequence (RFC 7162 3.1.4.1).
func (w *FetchResponseWriter) WriteModSeq(modSeq uint64) {
	w.writeItemSep()
	w.enc.Atom("MODSEQ").SP().Special('(').ModSeq(modSeq).Special(')')
}

// WriteVanishedEarlier writes a VANISHED (EARLIER) response (RFC 7162
// 3.2.10): UIDs expunged before the command, for UID FETCH's VANISHED
// modifier and SELECT's QRESYNC parameter.
func (cmd *FetchWriter) WriteVanishedEarlier(uids imap.UIDSet) error {
	if len(uids) == 0 {
		return nil
	}
	return cmd.conn.writeVanished(uids, true)
}

// WriteModified sets the tagged OK's MODIFIED response code: the messages
// STORE's UNCHANGEDSINCE left unchanged (RFC 7162 3.1.3), sequence
// numbers for STORE, UIDs for UID STORE.
func (cmd *FetchWriter) WriteModified(numSet imap.NumSet) {
	cmd.conn.okCode = imap.ResponseCode("MODIFIED " + numSet.String())
}

func (c *Conn) writeVanished(uids imap.UIDSet, earlier bool) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("VANISHED").SP()
	if earlier {
		enc.Atom("(EARLIER)").SP()
	}
	enc.NumSet(uids)
	return enc.CRLF()
}

// WriteVanished writes a VANISHED response, which replaces EXPUNGE once
// QRESYNC is enabled (RFC 7162 3.2.10).
func (w *UpdateWriter) WriteVanished(uids imap.UIDSet) error {
	if !w.allowExpunge {
		return fmt.Errorf("imapserver: VANISHED updates are not allowed in this context")
	}
	if len(uids) == 0 {
		return nil
	}
	return w.conn.writeVanished(uids, false)
}

// WriteMessageFlagsModSeq writes a FETCH response with FLAGS and MODSEQ,
// what a flag change is reported with once CONDSTORE is enabled (RFC 7162
// 3.1.4).
func (w *UpdateWriter) WriteMessageFlagsModSeq(seqNum uint32, uid imap.UID, flags []imap.Flag, modSeq uint64) error {
	fetchWriter := &FetchWriter{conn: w.conn}
	respWriter := fetchWriter.CreateMessage(seqNum)
	if uid != 0 {
		respWriter.WriteUID(uid)
	}
	respWriter.WriteFlags(flags)
	respWriter.WriteModSeq(modSeq)
	return respWriter.Close()
}

// WriteVanished writes a VANISHED response, instead of EXPUNGE once QRESYNC
// is enabled.
func (w *ExpungeWriter) WriteVanished(uids imap.UIDSet) error {
	if w.conn == nil || len(uids) == 0 {
		return nil
	}
	return w.conn.writeVanished(uids, false)
}
