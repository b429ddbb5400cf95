package imapd_test

// The stress test's client (stress_test.go): a response reader that
// follows literals, and a tracker of one connection's view of its
// selected mailbox that checks every response against what the
// connection was told before, as Dovecot's imaptest does in its stress
// mode (src/client.c, src/client-state.c, src/mailbox-state.c). The
// checks and the RFC 9051 rules behind them:
//
//   - EXISTS never lowers the count; only EXPUNGE does (7.4.1, 7.5.1).
//   - EXPUNGE, FETCH and SEARCH name only sequence numbers the client
//     knows (2.3.1.2); no EXPUNGE while a FETCH, STORE or SEARCH (not
//     their UID forms) is answered, nor when no command is (7.5.1).
//   - A message's UID never changes, UIDs ascend with sequence numbers,
//     an expunged UID does not come back, messages there at SELECT have
//     UIDs below its UIDNEXT and later ones not (2.3.1.1).
//   - A keyword in FETCH FLAGS was announced in FLAGS or PERMANENTFLAGS
//     since SELECT (7.3.5, 7.1); system flags are the known ones.
//   - Owner flags (\Draft, $o1..$o4) of a message are changed only by
//     the client that appended it, so that client knows them exactly:
//     any FETCH FLAGS and any UID SEARCH KEYWORD it gets must agree
//     (unless the message was expunged before its STORE).
//   - A message's RFC822.SIZE and header never change (2.3) and are
//     those of the message appended or delivered.
//   - \Recent is set for one session only (RFC 3501 2.3.2).
//   - Tagged responses come in the order of the commands, and none is
//     BAD or NO: every command the stress test sends is valid.
//
// A violation that leaves the view in doubt (sequence numbers, UIDs,
// answers) stops the client; the others (keywords, UIDNEXT, \Recent,
// size and header) are noted, the first of each kind, and it goes on.
// Some checks only hold if the message still exists, which the client
// can't know while it runs (a FETCH may skip a message expunged
// meanwhile, a STORE may come too late to change one): those are noted
// in stShared.mustExist and checked against the store at the end.

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tokens of a response.
type stKind int

const (
	stAtom stKind = iota
	stString
	stList
	stNil
)

type stTok struct {
	kind stKind
	s    string // atom or string (quoted or literal)
	list []stTok
}

// stResp is one response, read whole, literals included.
type stResp struct {
	tag    string // "*", "+" or a command's tag
	num    uint32 // of "* num NAME"
	hasNum bool
	name   string // upper case: FETCH, EXISTS, OK, FLAGS, SEARCH, ...
	args   []stTok
	text   string // of status responses and continuations: the rest of the line
	raw    string // the response for messages, literals abbreviated
}

// stMaxLiteral bounds a literal the reader accepts.
const stMaxLiteral = 4 << 20

type stParser struct {
	r   *bufio.Reader
	raw []byte
}

// readStResp reads one response. Status responses (OK, NO, BAD, BYE,
// PREAUTH) keep their text as it is; other responses are parsed into
// tokens, with literals read by their length wherever they appear.
func readStResp(r *bufio.Reader) (*stResp, error) {
	p := &stParser{r: r}
	res, err := p.resp()
	if err != nil {
		if len(p.raw) == 0 {
			return nil, err
		}
		return nil, fmt.Errorf("%w (in %q)", err, p.raw)
	}
	res.raw = strings.ReplaceAll(strings.TrimRight(string(p.raw), "\r\n"), "\r\n", " ")
	return res, nil
}

func (p *stParser) peek() (byte, error) {
	b, err := p.r.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (p *stParser) next() (byte, error) {
	c, err := p.r.ReadByte()
	if err != nil {
		return 0, err
	}
	p.raw = append(p.raw, c)
	return c, nil
}

func (p *stParser) expect(want byte) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c != want {
		return fmt.Errorf("got %q, want %q", c, want)
	}
	return nil
}

func (p *stParser) resp() (*stResp, error) {
	tag, err := p.atom()
	if err != nil {
		return nil, err
	}
	if tag == "+" {
		text, err := p.rest()
		return &stResp{tag: tag, text: text}, err
	}
	if tag == "" {
		return nil, errors.New("response without a tag")
	}
	res := &stResp{tag: tag}
	if err := p.expect(' '); err != nil {
		return nil, err
	}
	word, err := p.atom()
	if err != nil {
		return nil, err
	}
	if tag == "*" {
		if n, err := strconv.ParseUint(word, 10, 32); err == nil {
			res.num, res.hasNum = uint32(n), true
			if err := p.expect(' '); err != nil {
				return nil, err
			}
			if word, err = p.atom(); err != nil {
				return nil, err
			}
		}
	}
	if word == "" {
		return nil, errors.New("response without a name")
	}
	res.name = strings.ToUpper(word)
	switch res.name {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		res.text, err = p.rest()
		return res, err
	}
	for {
		c, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch c {
		case '\r':
			p.next()
			return res, p.expect('\n')
		case ' ':
			p.next()
			continue
		}
		t, err := p.tok()
		if err != nil {
			return nil, err
		}
		res.args = append(res.args, t)
	}
}

// rest reads up to the end of the line.
func (p *stParser) rest() (string, error) {
	var b []byte
	for {
		c, err := p.next()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			break
		}
		b = append(b, c)
	}
	return strings.TrimPrefix(strings.TrimSuffix(string(b), "\r"), " "), nil
}

// atom reads an atom; a "[...]" in it (BODY[HEADER.FIELDS (A B)]) is
// part of it, spaces and parentheses included.
func (p *stParser) atom() (string, error) {
	var b []byte
	depth := 0
	for {
		c, err := p.peek()
		if err != nil {
			return "", err
		}
		if c == '\r' || c == '\n' {
			if depth > 0 {
				return "", errors.New("unterminated [")
			}
			break
		}
		if depth == 0 && (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{') {
			break
		}
		p.next()
		switch c {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		}
		b = append(b, c)
	}
	return string(b), nil
}

func (p *stParser) tok() (stTok, error) {
	c, err := p.peek()
	if err != nil {
		return stTok{}, err
	}
	switch c {
	case '(':
		p.next()
		list := []stTok{}
		for {
			c, err := p.peek()
			if err != nil {
				return stTok{}, err
			}
			switch c {
			case ')':
				p.next()
				return stTok{kind: stList, list: list}, nil
			case ' ':
				p.next()
				continue
			case '\r', '\n':
				return stTok{}, errors.New("unterminated list")
			}
			t, err := p.tok()
			if err != nil {
				return stTok{}, err
			}
			list = append(list, t)
		}
	case '"':
		p.next()
		var b []byte
		for {
			c, err := p.next()
			if err != nil {
				return stTok{}, err
			}
			switch c {
			case '"':
				return stTok{kind: stString, s: string(b)}, nil
			case '\\':
				if c, err = p.next(); err != nil {
					return stTok{}, err
				}
			case '\r', '\n':
				return stTok{}, errors.New("line break in a quoted string")
			}
			b = append(b, c)
		}
	case '{':
		p.next()
		var digits []byte
		for {
			c, err := p.next()
			if err != nil {
				return stTok{}, err
			}
			if c == '}' {
				break
			}
			if c < '0' || c > '9' {
				return stTok{}, fmt.Errorf("%q in a literal's length", c)
			}
			digits = append(digits, c)
		}
		n, err := strconv.Atoi(string(digits))
		if err != nil || n > stMaxLiteral {
			return stTok{}, fmt.Errorf("literal of length %q", digits)
		}
		if err := p.expect('\r'); err != nil {
			return stTok{}, err
		}
		if err := p.expect('\n'); err != nil {
			return stTok{}, err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(p.r, b); err != nil {
			return stTok{}, fmt.Errorf("literal: %w", err)
		}
		p.raw = append(p.raw, stAbbrev(string(b))...)
		return stTok{kind: stString, s: string(b)}, nil
	}
	a, err := p.atom()
	if err != nil {
		return stTok{}, err
	}
	if a == "" {
		return stTok{}, fmt.Errorf("unexpected %q", c)
	}
	if strings.EqualFold(a, "NIL") {
		return stTok{kind: stNil}, nil
	}
	return stTok{kind: stAtom, s: a}, nil
}

// stAbbrev quotes the start of a literal for messages.
func stAbbrev(s string) string {
	if len(s) > 60 {
		return strconv.Quote(s[:60]) + "..."
	}
	return strconv.Quote(s)
}

// Flags of the stress test. Owner flags are stored only by the client
// that appended a message (UID STORE), so that it knows them at any
// time; the others store shared flags and \Deleted.
var (
	stOwnerFlags  = []string{`\Draft`, "$o1", "$o2", "$o3", "$o4"}
	stSharedFlags = func() []string {
		out := []string{`\Seen`, `\Answered`, `\Flagged`}
		for i := 1; i <= 20; i++ {
			out = append(out, fmt.Sprintf("$k%d", i))
		}
		return out
	}()
	stSystemFlags = map[string]bool{`\seen`: true, `\answered`: true, `\flagged`: true, `\deleted`: true, `\draft`: true, `\recent`: true}
)

func stIsOwnerFlag(f string) bool {
	f = strings.ToLower(f)
	return f == `\draft` || strings.HasPrefix(f, "$o")
}

// stOwnerKey is the owner flags of a flag list, lower case, sorted.
func stOwnerKey(flags []string) string {
	var out []string
	for _, f := range flags {
		if stIsOwnerFlag(f) {
			out = append(out, strings.ToLower(f))
		}
	}
	sort.Strings(out)
	return strings.Join(slices.Compact(out), " ")
}

// stFlagKey is a flag list lower case, sorted, without \Recent.
func stFlagKey(flags []string) string {
	var out []string
	for _, f := range flags {
		if f = strings.ToLower(f); f != `\recent` {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return strings.Join(slices.Compact(out), " ")
}

// stShared is what the clients of one run know together.
type stShared struct {
	mu          sync.Mutex
	uidValidity string
	static      map[uint32]*stStatic
	recent      map[uint32]string // UID → the client that saw it \Recent
	delivered   []uint32          // UIDs of delivered messages, which nobody owns
	// mustExist: UIDs some response should have shown, unless the
	// message was expunged meanwhile; a violation if it exists at the end.
	mustExist []stPending
}

// stStatic is what never changes for a UID: the first value seen and
// who saw it.
type stStatic struct {
	size, sizeFrom     string
	header, headerFrom string
}

type stPending struct {
	uid  uint32
	kind string
	err  error
}

func newStShared() *stShared {
	return &stShared{static: map[uint32]*stStatic{}, recent: map[uint32]string{}}
}

// note compares a message's size and header (nil: not known here) with
// what was seen or stored before.
func (sh *stShared) note(uid uint32, size, header *string, who string) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.static[uid]
	if s == nil {
		s = &stStatic{}
		sh.static[uid] = s
	}
	if size != nil {
		if s.sizeFrom == "" {
			s.size, s.sizeFrom = *size, who
		} else if s.size != *size {
			return fmt.Errorf("RFC822.SIZE of UID %d is %s, but %s per %s", uid, *size, s.size, s.sizeFrom)
		}
	}
	if header != nil {
		if s.headerFrom == "" {
			s.header, s.headerFrom = *header, who
		} else if s.header != *header {
			return fmt.Errorf("header of UID %d is %s, but %s per %s", uid, stAbbrev(*header), stAbbrev(s.header), s.headerFrom)
		}
	}
	return nil
}

// claimRecent notes that client saw uid \Recent; it returns another
// client that did, if any.
func (sh *stShared) claimRecent(uid uint32, client string) string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if o, ok := sh.recent[uid]; ok && o != client {
		return o
	}
	sh.recent[uid] = client
	return ""
}

func (sh *stShared) checkUIDValidity(v string) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.uidValidity == "" {
		sh.uidValidity = v
	} else if sh.uidValidity != v {
		return fmt.Errorf("UIDVALIDITY %s, earlier %s", v, sh.uidValidity)
	}
	return nil
}

func (sh *stShared) addPending(uid uint32, kind string, err error) {
	sh.mu.Lock()
	sh.mustExist = append(sh.mustExist, stPending{uid, kind, err})
	sh.mu.Unlock()
}

func (sh *stShared) addDelivered(uid uint32) {
	sh.mu.Lock()
	sh.delivered = append(sh.delivered, uid)
	sh.mu.Unlock()
}

func (sh *stShared) deliveredUIDs() []uint32 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return slices.Clone(sh.delivered)
}

// stTracker is one connection's view of its selected mailbox.
type stTracker struct {
	name     string
	sh       *stShared
	pending  []*stCmd // commands sent and not answered, oldest first
	slots    []stSlot // by sequence number - 1
	selected bool
	flagsKW  map[string]bool   // keywords (lower case) of the last FLAGS
	permKW   map[string]bool   // and of the last PERMANENTFLAGS
	uidNext  uint32            // of the last SELECT
	gone     map[uint32]bool   // UIDs this connection was told are expunged
	owned    map[uint32]string // messages this client appended: UID → owner key it last set
	hist     []string
	cur      string // the response being checked
	lastSel  string // the last SELECT's answer, for messages
	// soft: violations that leave the view intact, so that the client
	// goes on after them: the first of each kind, and how many of each.
	soft     []error
	softKind []string
	softN    map[string]int
	stats    map[string]int // responses by name, for the test's log
}

type stSlot struct {
	uid      uint32 // 0: not known yet
	atSelect bool   // there when SELECT answered
	flags    []string
	flagsSet bool
}

// stCmd is a command sent and what its answer is checked against.
type stCmd struct {
	tag, text string
	kind      string // SELECT, FETCH, UID FETCH, STORE, UID STORE, ...
	noExpunge bool   // FETCH, STORE, SEARCH
	wantCont  bool   // APPEND, IDLE
	gotCont   bool
	done      bool
	sawExists bool // SELECT
	// expect: UIDs that should be answered (FETCH, STORE, UID SEARCH
	// ALL) unless expunged meanwhile; answered: those that were.
	expect   []uint32
	answered map[uint32]bool
	results  []uint32 // SEARCH
	// ownKW: UID SEARCH KEYWORD of an owner keyword (lower case), and the
	// client's owned UIDs in its view when sent.
	ownKW     string
	ownInView map[uint32]bool
	appendKey string // APPEND: owner key of its flags
	appendMsg string // APPEND: the message, for size and header
	appendUID uint32
}

func newStTracker(name string, sh *stShared) *stTracker {
	return &stTracker{name: name, sh: sh, flagsKW: map[string]bool{}, permKW: map[string]bool{},
		gone: map[uint32]bool{}, owned: map[uint32]string{}, softN: map[string]int{}, stats: map[string]int{}}
}

// stViolation is a response that breaks a rule, with the client's
// recent history.
type stViolation struct {
	client, msg, cmd, line, sel string
	hist                        []string
}

func (v *stViolation) Error() string {
	return fmt.Sprintf("%s: %s\n    command: %s\n    offending line: %s\n    last SELECT: %s\n    recent history of %s, oldest first:\n      %s",
		v.client, v.msg, v.cmd, v.line, v.sel, v.client, strings.Join(v.hist, "\n      "))
}

// fail returns a violation after which the client's view can't be
// trusted: the client stops.
func (t *stTracker) fail(c *stCmd, format string, args ...any) error {
	cmd := "(none)"
	if c != nil {
		cmd = c.tag + " " + c.text
	}
	return &stViolation{client: t.name, msg: fmt.Sprintf(format, args...), cmd: cmd, line: t.cur, sel: t.lastSel, hist: slices.Clone(t.hist)}
}

// softFail notes a violation that leaves the view intact; its kind is
// its format.
func (t *stTracker) softFail(c *stCmd, format string, args ...any) {
	if t.softN[format] == 0 {
		t.soft = append(t.soft, t.fail(c, format, args...))
		t.softKind = append(t.softKind, format)
	}
	t.softN[format]++
}

const stHistory = 40

func (t *stTracker) log(s string) {
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	if len(t.hist) == stHistory {
		t.hist = t.hist[1:]
	}
	t.hist = append(t.hist, s)
}

func (t *stTracker) head() *stCmd {
	if len(t.pending) == 0 {
		return nil
	}
	return t.pending[0]
}

// command notes a command being sent: "tag" and the rest of the line.
// SELECT starts a new view; UID STORE of one owned message sets the
// owner flags the client expects from then on; UID SEARCH KEYWORD of an
// owner keyword is checked against them.
func (t *stTracker) command(tag, text string) *stCmd {
	c := &stCmd{tag: tag, text: text, answered: map[uint32]bool{}}
	f := strings.Fields(strings.ToUpper(text))
	if len(f) > 0 {
		c.kind = f[0]
		if f[0] == "UID" && len(f) > 1 {
			c.kind = "UID " + f[1]
		}
	}
	switch c.kind {
	case "FETCH", "STORE", "SEARCH":
		c.noExpunge = true
	case "APPEND", "IDLE":
		c.wantCont = true
	case "SELECT", "EXAMINE":
		t.selected, t.slots, t.uidNext = false, nil, 0
		t.flagsKW, t.permKW = map[string]bool{}, map[string]bool{}
	}
	switch c.kind {
	case "APPEND":
		if i := strings.IndexByte(text, '('); i >= 0 {
			if j := strings.IndexByte(text[i:], ')'); j >= 0 {
				c.appendKey = stOwnerKey(strings.Fields(text[i+1 : i+j]))
			}
		}
	case "UID STORE":
		t.storeOwned(text)
	case "UID SEARCH":
		if f := strings.Fields(text); len(f) == 4 && strings.EqualFold(f[2], "KEYWORD") && stIsOwnerFlag(f[3]) {
			c.ownKW, c.ownInView = strings.ToLower(f[3]), map[uint32]bool{}
			for _, u := range t.knownUIDs() {
				if _, ok := t.owned[u]; ok {
					c.ownInView[u] = true
				}
			}
		}
	}
	t.pending = append(t.pending, c)
	if c.kind == "LOGIN" {
		text = "LOGIN (credentials left out)"
	}
	t.log("C: " + tag + " " + text)
	return c
}

// storeOwned updates the expected owner flags for "UID STORE uid
// [+-]FLAGS[.SILENT] (...)" of one owned message.
func (t *stTracker) storeOwned(text string) {
	f := strings.Fields(text)
	if len(f) < 4 {
		return
	}
	u, err := strconv.ParseUint(f[2], 10, 32)
	if err != nil {
		return
	}
	old, ok := t.owned[uint32(u)]
	if !ok {
		return
	}
	op := strings.ToUpper(f[3])
	list := strings.Trim(strings.Join(f[4:], " "), "()")
	req := strings.Fields(stOwnerKey(strings.Fields(list)))
	cur := strings.Fields(old)
	switch {
	case strings.HasPrefix(op, "+"):
		cur = append(cur, req...)
	case strings.HasPrefix(op, "-"):
		cur = slices.DeleteFunc(cur, func(s string) bool { return slices.Contains(req, s) })
	default:
		cur = req
	}
	t.owned[uint32(u)] = stOwnerKey(cur)
}

// handle checks a response and updates the view.
func (t *stTracker) handle(r *stResp) error {
	t.cur = r.raw
	t.log("S: " + r.raw)
	if r.tag == "*" {
		t.stats[r.name]++
	}
	c := t.head()
	switch r.tag {
	case "+":
		if c == nil || !c.wantCont || c.gotCont {
			return t.fail(c, "continuation request that no command asked for")
		}
		c.gotCont = true
		return nil
	case "*":
		return t.untagged(c, r)
	}
	if c == nil {
		return t.fail(c, "tagged response %s with no command outstanding", r.tag)
	}
	if r.tag != c.tag {
		return t.fail(c, "tagged response %s out of order: %s is the oldest command outstanding", r.tag, c.tag)
	}
	t.pending = t.pending[1:]
	c.done = true
	switch r.name {
	case "OK":
	case "NO", "BAD":
		return t.fail(c, "%s answered %s", c.kind, r.name)
	default:
		return t.fail(c, "tagged status %s", r.name)
	}
	return t.complete(c, r)
}

func (t *stTracker) untagged(c *stCmd, r *stResp) error {
	if r.hasNum {
		n := int(r.num)
		switch r.name {
		case "EXISTS":
			if c != nil && c.kind == "SELECT" && !c.sawExists {
				c.sawExists = true
				t.slots = make([]stSlot, n)
				for i := range t.slots {
					t.slots[i].atSelect = true
				}
				return nil
			}
			if n < len(t.slots) {
				return t.fail(c, "EXISTS shrank from %d to %d (only EXPUNGE lowers the count)", len(t.slots), n)
			}
			for len(t.slots) < n {
				t.slots = append(t.slots, stSlot{})
			}
		case "RECENT":
			if n > len(t.slots) {
				return t.fail(c, "RECENT %d exceeds the %d messages the client knows", n, len(t.slots))
			}
		case "EXPUNGE":
			switch {
			case c == nil:
				return t.fail(c, "EXPUNGE with no command in progress (RFC 9051 7.5.1)")
			case c.noExpunge:
				return t.fail(c, "EXPUNGE while answering %s (RFC 9051 7.5.1)", c.kind)
			case n == 0 || n > len(t.slots):
				return t.fail(c, "EXPUNGE %d beyond the %d messages the client knows", n, len(t.slots))
			}
			if u := t.slots[n-1].uid; u != 0 {
				t.gone[u] = true
				delete(t.owned, u)
			}
			t.slots = slices.Delete(t.slots, n-1, n)
		case "FETCH":
			return t.fetch(c, n, r)
		default:
			return t.fail(c, "unknown response %s", r.name)
		}
		return nil
	}
	switch r.name {
	case "FLAGS":
		if len(r.args) != 1 || r.args[0].kind != stList {
			return t.fail(c, "malformed FLAGS")
		}
		kw, err := t.flagList(r.args[0].list, false)
		if err != nil {
			return t.fail(c, "FLAGS: %v", err)
		}
		t.flagsKW = kw
	case "OK":
		return t.untaggedOK(c, r)
	case "NO", "BAD", "PREAUTH":
		return t.fail(c, "untagged %s", r.name)
	case "BYE":
		if c == nil || c.kind != "LOGOUT" {
			return t.fail(c, "unexpected BYE")
		}
	case "SEARCH":
		return t.search(c, r)
	case "CAPABILITY", "LIST", "LSUB", "STATUS", "ENABLED", "NAMESPACE", "ID", "QUOTA", "QUOTAROOT":
	default:
		return t.fail(c, "unexpected untagged %s", r.name)
	}
	return nil
}

// flagList returns the keywords of a FLAGS or PERMANENTFLAGS list, lower
// case, after checking its system flags.
func (t *stTracker) flagList(list []stTok, perm bool) (map[string]bool, error) {
	kw := map[string]bool{}
	for _, f := range list {
		if f.kind != stAtom {
			return nil, fmt.Errorf("flag that is not an atom")
		}
		l := strings.ToLower(f.s)
		switch {
		case perm && l == `\*`:
		case strings.HasPrefix(l, `\`):
			if !stSystemFlags[l] {
				return nil, fmt.Errorf("unknown system flag %s", f.s)
			}
		default:
			kw[l] = true
		}
	}
	return kw, nil
}

// stCode splits the response code off a status response's text:
// "[APPENDUID 7 10] done" is "APPENDUID" and "7 10".
func stCode(text string) (name, args string) {
	if !strings.HasPrefix(text, "[") {
		return "", ""
	}
	end := strings.IndexByte(text, ']')
	if end < 0 {
		return "", ""
	}
	name, args, _ = strings.Cut(text[1:end], " ")
	return strings.ToUpper(name), args
}

func (t *stTracker) untaggedOK(c *stCmd, r *stResp) error {
	code, args := stCode(r.text)
	switch code {
	case "PERMANENTFLAGS":
		kw, err := t.flagList(stAtoms(strings.Trim(args, "()")), true)
		if err != nil {
			return t.fail(c, "PERMANENTFLAGS: %v", err)
		}
		t.permKW = kw
	case "UIDVALIDITY":
		if err := t.sh.checkUIDValidity(args); err != nil {
			return t.fail(c, "%v", err)
		}
	case "UIDNEXT":
		if c == nil || c.kind != "SELECT" {
			return nil
		}
		n, err := strconv.ParseUint(args, 10, 32)
		if err != nil {
			return t.fail(c, "UIDNEXT %q", args)
		}
		t.uidNext = uint32(n)
		for _, s := range t.slots {
			if s.uid >= t.uidNext {
				t.softFail(c, "UIDNEXT %d is not above UID %d of the mailbox", n, s.uid)
			}
		}
	}
	return nil
}

func stAtoms(s string) []stTok {
	var out []stTok
	for _, f := range strings.Fields(s) {
		out = append(out, stTok{kind: stAtom, s: f})
	}
	return out
}

func (t *stTracker) fetch(c *stCmd, n int, r *stResp) error {
	if n == 0 || n > len(t.slots) {
		return t.fail(c, "FETCH for message %d beyond the %d the client knows", n, len(t.slots))
	}
	if len(r.args) != 1 || r.args[0].kind != stList || len(r.args[0].list)%2 != 0 {
		return t.fail(c, "malformed FETCH")
	}
	items := r.args[0].list
	var uid uint32
	var flags []string
	haveFlags := false
	var size, header *string
	for i := 0; i < len(items); i += 2 {
		if items[i].kind != stAtom {
			return t.fail(c, "FETCH item name that is not an atom")
		}
		name, v := strings.ToUpper(items[i].s), items[i+1]
		switch name {
		case "UID":
			u, err := strconv.ParseUint(v.s, 10, 32)
			if v.kind != stAtom || err != nil || u == 0 {
				return t.fail(c, "bad UID %q", v.s)
			}
			uid = uint32(u)
		case "FLAGS":
			if v.kind != stList {
				return t.fail(c, "FLAGS is not a list")
			}
			haveFlags, flags = true, []string{}
			for _, f := range v.list {
				if f.kind != stAtom {
					return t.fail(c, "flag that is not an atom")
				}
				flags = append(flags, f.s)
			}
		case "RFC822.SIZE":
			if v.kind != stAtom {
				return t.fail(c, "RFC822.SIZE is not a number")
			}
			s := v.s
			size = &s
		case "BODY[HEADER]":
			if v.kind != stString {
				return t.fail(c, "BODY[HEADER] is not a string")
			}
			s := v.s
			header = &s
		}
	}
	slot := &t.slots[n-1]
	if uid != 0 {
		if slot.uid != 0 && slot.uid != uid {
			return t.fail(c, "UID of message %d changed from %d to %d", n, slot.uid, uid)
		}
		if t.gone[uid] {
			return t.fail(c, "UID %d was expunged, yet message %d has it", uid, n)
		}
		for j := n - 2; j >= 0; j-- {
			if u := t.slots[j].uid; u != 0 {
				if u >= uid {
					return t.fail(c, "UIDs not ascending: message %d has UID %d, message %d UID %d", j+1, u, n, uid)
				}
				break
			}
		}
		for j := n; j < len(t.slots); j++ {
			if u := t.slots[j].uid; u != 0 {
				if u <= uid {
					return t.fail(c, "UIDs not ascending: message %d has UID %d, message %d UID %d", n, uid, j+1, u)
				}
				break
			}
		}
		if t.uidNext != 0 && slot.uid == 0 {
			if slot.atSelect && uid >= t.uidNext {
				t.softFail(c, "message %d, there at SELECT, has UID %d, not below SELECT's UIDNEXT %d", n, uid, t.uidNext)
			}
			if !slot.atSelect && uid < t.uidNext {
				t.softFail(c, "message %d arrived after SELECT with UID %d, below SELECT's UIDNEXT %d", n, uid, t.uidNext)
			}
		}
		slot.uid = uid
	}
	uid = slot.uid
	if haveFlags {
		kept := []string{}
		recent := false
		for _, f := range flags {
			l := strings.ToLower(f)
			if strings.HasPrefix(l, `\`) {
				if !stSystemFlags[l] {
					return t.fail(c, "unknown system flag %s", f)
				}
				if l == `\recent` {
					recent = true
					continue
				}
			} else if !t.flagsKW[l] && !t.permKW[l] {
				t.softFail(c, "keyword %s was not announced in FLAGS or PERMANENTFLAGS since SELECT", f)
			}
			kept = append(kept, f)
		}
		slot.flags, slot.flagsSet = kept, true
		if uid != 0 {
			if want, ok := t.owned[uid]; ok {
				// Unless the message was expunged before this client's
				// STORE could change it, which shows at the end.
				if got := stOwnerKey(kept); got != want {
					t.sh.addPending(uid, "owner flags", t.fail(c, "owner flags of UID %d are {%s}; this client, the only one that changes them, last set {%s}", uid, got, want))
				}
			}
			if recent {
				if other := t.sh.claimRecent(uid, t.name); other != "" {
					t.softFail(c, `UID %d is \Recent here and for %s`, uid, other)
				}
			}
		}
	}
	if uid != 0 && (size != nil || header != nil) {
		if err := t.sh.note(uid, size, header, t.name+" FETCH"); err != nil {
			t.softFail(c, "%v", err)
		}
	}
	if c != nil && uid != 0 {
		c.answered[uid] = true
	}
	return nil
}

func (t *stTracker) search(c *stCmd, r *stResp) error {
	if c == nil || (c.kind != "SEARCH" && c.kind != "UID SEARCH") {
		return t.fail(c, "SEARCH response outside SEARCH")
	}
	known := map[uint32]bool{}
	unknown := 0
	for _, s := range t.slots {
		if s.uid != 0 {
			known[s.uid] = true
		} else {
			unknown++
		}
	}
	var strange []uint32
	for _, a := range r.args {
		v, err := strconv.ParseUint(a.s, 10, 32)
		if a.kind != stAtom || err != nil || v == 0 {
			return t.fail(c, "bad number %q in SEARCH", a.s)
		}
		n := uint32(v)
		if c.kind == "SEARCH" {
			if int(n) > len(t.slots) {
				return t.fail(c, "SEARCH result %d beyond the %d messages the client knows", n, len(t.slots))
			}
		} else {
			if t.gone[n] {
				return t.fail(c, "UID SEARCH returned UID %d, which was expunged", n)
			}
			if !known[n] {
				strange = append(strange, n)
			}
			c.answered[n] = true
		}
		c.results = append(c.results, n)
	}
	if len(strange) > unknown {
		return t.fail(c, "UID SEARCH returned UIDs %v of which the client knows nothing (%d messages of unknown UID)", strange, unknown)
	}
	return nil
}

// complete checks a command's results once it is answered OK.
func (t *stTracker) complete(c *stCmd, r *stResp) error {
	switch c.kind {
	case "SELECT":
		if !c.sawExists {
			return t.fail(c, "SELECT without EXISTS")
		}
		t.selected = true
		t.lastSel = fmt.Sprintf("%s: %d EXISTS, UIDNEXT %d", c.tag, len(t.slots), t.uidNext)
	case "APPEND":
		code, args := stCode(r.text)
		f := strings.Fields(args)
		if code != "APPENDUID" || len(f) != 2 {
			return t.fail(c, "APPEND without APPENDUID (UIDPLUS is announced)")
		}
		if err := t.sh.checkUIDValidity(f[0]); err != nil {
			return t.fail(c, "APPENDUID: %v", err)
		}
		u, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil || u == 0 {
			return t.fail(c, "APPENDUID %q", args)
		}
		c.appendUID = uint32(u)
		// The message may have been expunged by another client, and
		// this one told so, before the APPEND's OK.
		if !t.gone[c.appendUID] {
			t.owned[c.appendUID] = c.appendKey
		}
		if c.appendMsg != "" {
			size, header := strconv.Itoa(len(c.appendMsg)), stHeader(c.appendMsg)
			if err := t.sh.note(c.appendUID, &size, &header, t.name+" APPEND"); err != nil {
				return t.fail(c, "%v", err)
			}
		}
	case "UID SEARCH":
		if c.ownKW == "" {
			break
		}
		res := map[uint32]bool{}
		for _, u := range c.results {
			res[u] = true
		}
		for u, key := range t.owned {
			has := slices.Contains(strings.Fields(key), c.ownKW)
			if res[u] && !has {
				t.softFail(c, "UID SEARCH KEYWORD %s returned UID %d, whose owner flags this client set to {%s}", c.ownKW, u, key)
			}
			if !res[u] && has && c.ownInView[u] {
				t.sh.addPending(u, "search", fmt.Errorf("%s: %s %s did not return UID %d, which has %s", t.name, c.tag, c.text, u, c.ownKW))
			}
		}
	}
	for _, u := range c.expect {
		if !c.answered[u] {
			t.sh.addPending(u, "answer "+c.kind, fmt.Errorf("%s: %s %s did not answer for UID %d", t.name, c.tag, c.text, u))
		}
	}
	return nil
}

// stHeader is a message's header block, the blank line included.
func stHeader(msg string) string {
	if i := strings.Index(msg, "\r\n\r\n"); i >= 0 {
		return msg[:i+4]
	}
	return msg
}

// knownUIDs returns the UIDs of the view that the client knows.
func (t *stTracker) knownUIDs() []uint32 {
	var out []uint32
	for _, s := range t.slots {
		if s.uid != 0 {
			out = append(out, s.uid)
		}
	}
	return out
}

// stConn is a stress client: a connection, its tracker, and a goroutine
// reading responses.
type stConn struct {
	t       *stTracker
	nc      net.Conn
	in      chan stRead
	quit    chan struct{}
	n       int // tags given
	timeout time.Duration
}

type stRead struct {
	r   *stResp
	err error
}

var errStTimeout = errors.New("timed out")

// stDial connects over implicit TLS and reads the greeting.
func stDial(addr string, cfg *tls.Config, name string, sh *stShared) (*stConn, error) {
	nc, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", name, err)
	}
	c := &stConn{t: newStTracker(name, sh), nc: nc, in: make(chan stRead, 256), quit: make(chan struct{}), timeout: 30 * time.Second}
	go c.read()
	if err := c.step(c.timeout); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *stConn) close() {
	close(c.quit)
	c.nc.Close()
}

func (c *stConn) read() {
	br := bufio.NewReader(c.nc)
	for {
		r, err := readStResp(br)
		select {
		case c.in <- stRead{r, err}:
		case <-c.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// step checks the next response, waiting at most d for it.
func (c *stConn) step(d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case rd := <-c.in:
		if rd.err != nil {
			c.t.cur = "(none: reading)"
			return c.t.fail(c.t.head(), "reading: %v", rd.err)
		}
		return c.t.handle(rd.r)
	case <-timer.C:
		return errStTimeout
	}
}

// write sends raw bytes.
func (c *stConn) write(s string) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.cur = "(none: writing)"
		return c.t.fail(c.t.head(), "write: %v", err)
	}
	return nil
}

// send sends commands at once (pipelined if more than one).
func (c *stConn) send(texts ...string) ([]*stCmd, error) {
	var b strings.Builder
	var cmds []*stCmd
	for _, text := range texts {
		c.n++
		tag := fmt.Sprintf("a%d", c.n)
		cmds = append(cmds, c.t.command(tag, text))
		b.WriteString(tag + " " + text + "\r\n")
	}
	return cmds, c.write(b.String())
}

// wait checks responses until cond holds.
func (c *stConn) wait(cmd *stCmd, cond func() bool) error {
	for !cond() {
		if err := c.step(c.timeout); err != nil {
			if errors.Is(err, errStTimeout) {
				c.t.cur = "(none: waiting)"
				return c.t.fail(cmd, "no answer in %v", c.timeout)
			}
			return err
		}
	}
	return nil
}

// run sends a command, lets prep add its expectations, and waits for its
// answer.
func (c *stConn) run(text string, prep func(*stCmd)) (*stCmd, error) {
	cmds, err := c.send(text)
	if err != nil {
		return nil, err
	}
	cmd := cmds[0]
	if prep != nil {
		prep(cmd)
	}
	return cmd, c.wait(cmd, func() bool { return cmd.done })
}

// appendMsg appends msg with flags (IMAP syntax, without parentheses),
// with a synchronizing literal.
func (c *stConn) appendMsg(flags, msg string) error {
	text := "APPEND INBOX"
	if flags != "" {
		text += " (" + flags + ")"
	}
	text += fmt.Sprintf(" {%d}", len(msg))
	cmds, err := c.send(text)
	if err != nil {
		return err
	}
	cmd := cmds[0]
	cmd.appendMsg = msg
	if err := c.wait(cmd, func() bool { return cmd.gotCont || cmd.done }); err != nil {
		return err
	}
	if err := c.write(msg + "\r\n"); err != nil {
		return err
	}
	return c.wait(cmd, func() bool { return cmd.done })
}

// idle idles for d, checking the updates that come.
func (c *stConn) idle(d time.Duration) error {
	cmds, err := c.send("IDLE")
	if err != nil {
		return err
	}
	cmd := cmds[0]
	if err := c.wait(cmd, func() bool { return cmd.gotCont || cmd.done }); err != nil {
		return err
	}
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			break
		}
		if err := c.step(left); errors.Is(err, errStTimeout) {
			break
		} else if err != nil {
			return err
		}
	}
	if err := c.write("DONE\r\n"); err != nil {
		return err
	}
	return c.wait(cmd, func() bool { return cmd.done })
}
