package imapserver

// postdesk: SORT and THREAD (RFC 5256) for a Session implementing
// SessionSort and SessionThread (PATCHES.md 21).

import (
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// SortKey is a SORT criterion's key (RFC 5256 3).
type SortKey string

const (
	SortKeyArrival SortKey = "ARRIVAL"
	SortKeyCc      SortKey = "CC"
	SortKeyDate    SortKey = "DATE"
	SortKeyFrom    SortKey = "FROM"
	SortKeySize    SortKey = "SIZE"
	SortKeySubject SortKey = "SUBJECT"
	SortKeyTo      SortKey = "TO"
	// SortKeyDisplayFrom and SortKeyDisplayTo need SORT=DISPLAY (RFC 5957),
	// announced if the session lists them in SortKeys.
	SortKeyDisplayFrom SortKey = "DISPLAYFROM"
	SortKeyDisplayTo   SortKey = "DISPLAYTO"
)

// SortCriterion is one key of a SORT command, and its order.
type SortCriterion struct {
	Key     SortKey
	Reverse bool
}

// SessionSort is a Session that supports SORT (RFC 5256).
type SessionSort interface {
	Session

	// SortDisplay reports whether the session supports SORT=DISPLAY's
	// DISPLAYFROM and DISPLAYTO keys (RFC 5957).
	SortDisplay() bool
	// Sort returns the numbers (sequence numbers, or UIDs for UID SORT)
	// of the messages matching searchCriteria, in the order the criteria
	// give, ties in sequence number order.
	Sort(kind NumKind, criteria []SortCriterion, searchCriteria *imap.SearchCriteria) ([]uint32, error)
}

// ThreadData is one thread of a THREAD response: a chain of messages,
// each the parent of the next, whose last one has SubThreads as its
// children. A thread whose root is not in the mailbox (RFC 5256's dummy)
// has no Chain and two or more SubThreads.
type ThreadData struct {
	Chain      []uint32
	SubThreads []ThreadData
}

// SessionThread is a Session that supports THREAD (RFC 5256).
type SessionThread interface {
	Session

	// ThreadAlgorithms lists the algorithms announced as THREAD=<alg>.
	ThreadAlgorithms() []imap.ThreadAlgorithm
	// Thread returns the threads of the messages matching searchCriteria,
	// by sequence number or, for UID THREAD, UID.
	Thread(kind NumKind, algorithm imap.ThreadAlgorithm, searchCriteria *imap.SearchCriteria) ([]ThreadData, error)
}

func (c *Conn) handleSort(tag string, dec *imapwire.Decoder, numKind NumKind) error {
	session, ok := c.session.(SessionSort)
	if !ok {
		return newClientBugError("Unknown command")
	}
	if !dec.ExpectSP() {
		return dec.Err()
	}
	// ESORT (RFC 5267 3.2): SORT RETURN (...) answers ESEARCH.
	var (
		options  imap.SearchOptions
		extended bool
	)
	var atom string
	if dec.Atom(&atom) {
		if !strings.EqualFold(atom, "RETURN") {
			return newClientBugError("Expected RETURN or sort criteria")
		}
		if err := readSearchReturnOpts(dec, &options); err != nil {
			return err
		}
		if options.ReturnUpdate || options.ReturnPartial != nil {
			// postdesk: CONTEXT=SORT (RFC 5267) is not offered.
			return newClientBugError("Unknown SORT RETURN option")
		}
		if options.ReturnSave {
			return newClientBugError("SAVE is not supported with SORT")
		}
		if !dec.ExpectSP() {
			return dec.Err()
		}
		extended = true
		if !options.ReturnMin && !options.ReturnMax && !options.ReturnAll && !options.ReturnCount {
			options.ReturnAll = true
		}
	}
	var criteria []SortCriterion
	err := dec.ExpectList(func() error {
		var name string
		if !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		var crit SortCriterion
		if strings.EqualFold(name, "REVERSE") {
			crit.Reverse = true
			if !dec.ExpectSP() || !dec.ExpectAtom(&name) {
				return dec.Err()
			}
		}
		switch key := SortKey(strings.ToUpper(name)); key {
		case SortKeyArrival, SortKeyCc, SortKeyDate, SortKeyFrom, SortKeySize, SortKeySubject, SortKeyTo:
			crit.Key = key
		case SortKeyDisplayFrom, SortKeyDisplayTo:
			if !session.SortDisplay() {
				return newClientBugError("Unknown sort key")
			}
			crit.Key = key
		default:
			return newClientBugError("Unknown sort key")
		}
		criteria = append(criteria, crit)
		return nil
	})
	if err != nil {
		return err
	}
	if len(criteria) == 0 {
		return newClientBugError("SORT needs a sort key")
	}
	if !dec.ExpectSP() {
		return dec.Err()
	}
	searchCriteria, err := readCharsetSearchKeys(dec)
	if err != nil {
		return err
	}
	if err := c.checkState(imap.ConnStateSelected); err != nil {
		return err
	}
	nums, err := session.Sort(numKind, criteria, searchCriteria)
	if err != nil {
		return err
	}
	if extended {
		return c.writeESort(tag, nums, &options, numKind)
	}
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("SORT")
	for _, n := range nums {
		enc.SP().Number(n)
	}
	return enc.CRLF()
}

func (c *Conn) handleThread(dec *imapwire.Decoder, numKind NumKind) error {
	session, ok := c.session.(SessionThread)
	if !ok {
		return newClientBugError("Unknown command")
	}
	var name string
	if !dec.ExpectSP() || !dec.ExpectAtom(&name) || !dec.ExpectSP() {
		return dec.Err()
	}
	var algorithm imap.ThreadAlgorithm
	for _, a := range session.ThreadAlgorithms() {
		if strings.EqualFold(string(a), name) {
			algorithm = a
		}
	}
	if algorithm == "" {
		return newClientBugError("Unknown THREAD algorithm")
	}
	searchCriteria, err := readCharsetSearchKeys(dec)
	if err != nil {
		return err
	}
	if err := c.checkState(imap.ConnStateSelected); err != nil {
		return err
	}
	threads, err := session.Thread(numKind, algorithm, searchCriteria)
	if err != nil {
		return err
	}
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("THREAD")
	if len(threads) > 0 {
		enc.SP()
	}
	for _, t := range threads {
		writeThread(enc.Encoder, &t)
	}
	return enc.CRLF()
}

// writeESort writes ESORT's ESEARCH response (RFC 5267 3.2): MIN and MAX
// are the first and last message in sort order, ALL the messages in sort
// order, with ranges only for runs of consecutive ascending numbers.
func (c *Conn) writeESort(tag string, nums []uint32, options *imap.SearchOptions, numKind NumKind) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("ESEARCH").SP().Special('(').Atom("TAG").SP().String(tag).Special(')')
	if numKind == NumKindUID {
		enc.SP().Atom("UID")
	}
	if len(nums) > 0 {
		if options.ReturnMin {
			enc.SP().Atom("MIN").SP().Number(nums[0])
		}
		if options.ReturnMax {
			enc.SP().Atom("MAX").SP().Number(nums[len(nums)-1])
		}
		if options.ReturnAll {
			enc.SP().Atom("ALL").SP().Atom(sortedSet(nums))
		}
	}
	if options.ReturnCount {
		enc.SP().Atom("COUNT").SP().Number(uint32(len(nums)))
	}
	return enc.CRLF()
}

// sortedSet writes numbers in their order as a sequence-set.
func sortedSet(nums []uint32) string {
	var b strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}

// writeThread writes a thread-list (RFC 5256 4): "(1 2 (3)(4 5))".
func writeThread(enc *imapwire.Encoder, t *ThreadData) {
	enc.Special('(')
	for i, n := range t.Chain {
		if i > 0 {
			enc.SP()
		}
		enc.Number(n)
	}
	if len(t.Chain) > 0 && len(t.SubThreads) > 0 {
		enc.SP()
	}
	for i := range t.SubThreads {
		writeThread(enc, &t.SubThreads[i])
	}
	enc.Special(')')
}

// readCharsetSearchKeys reads SORT and THREAD's charset and search keys,
// to the end of the line.
func readCharsetSearchKeys(dec *imapwire.Decoder) (*imap.SearchCriteria, error) {
	var charset string
	if !dec.ExpectAString(&charset) || !dec.ExpectSP() {
		return nil, dec.Err()
	}
	var criteria imap.SearchCriteria
	for {
		if err := readSearchKey(&criteria, dec); err != nil {
			return nil, err
		}
		if !dec.SP() {
			break
		}
	}
	if !dec.ExpectCRLF() {
		return nil, dec.Err()
	}
	switch strings.ToUpper(charset) {
	case "US-ASCII", "UTF-8":
	default:
		return nil, &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Code: imap.ResponseCodeBadCharset,
			Text: "Only US-ASCII and UTF-8 are supported charsets",
		}
	}
	return &criteria, nil
}

// sortCaps lists SORT and THREAD's capabilities for the session.
func (c *Conn) sortCaps() []imap.Cap {
	var caps []imap.Cap
	if s, ok := c.session.(SessionSort); ok {
		caps = append(caps, imap.CapSort, imap.CapESort)
		if s.SortDisplay() {
			caps = append(caps, imap.CapSortDisplay)
		}
	}
	if s, ok := c.session.(SessionThread); ok {
		for _, a := range s.ThreadAlgorithms() {
			caps = append(caps, imap.Cap("THREAD="+string(a)))
		}
	}
	return caps
}
