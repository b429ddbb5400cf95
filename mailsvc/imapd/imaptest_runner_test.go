package imapd_test

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// This file replays Dovecot's imaptest scripted tests (imaptest's
// src/tests) in Go. It does not read imaptest's script files: each test
// in imaptest_*_test.go writes a script's commands and expected answers as
// Go calls, and the code here checks the server's answers by the rules
// imaptest's test-exec.c applies:
//
//   - Before the commands run, each connection logs in and the first one
//     checks CAPABILITY: a script whose "capabilities:" header names one
//     the server does not advertise is skipped, as imaptest skips it. Then,
//     by the script's "state:", the test mailbox ($mailbox, "imaptest") is
//     created, the script's mbox messages are appended to it (with the
//     INTERNALDATE of their mbox From_ line) and every connection selects
//     it. The default state is "selected" with all of the mbox's messages.
//   - A command's tagged answer is matched as a prefix: "ok" matches any
//     OK, "ok [read-write]" one with that code, "" anything.
//   - Each expected untagged answer ("* ...") must match one that came
//     between the command and its tagged answer; a banned one ("! ...")
//     must match none; other untagged answers are ignored. OK, NO, BAD and
//     BYE untagged answers are matched as a prefix.
//   - Words compare without regard to case. "$name" takes its value from
//     the server's answer the first time and must match it afterwards;
//     "$" alone matches anything, a list too; "$N" is the current sequence
//     number of the message that was number N when the command was sent;
//     "$$" is a "$".
//   - Lists compare in order, except where imaptest's defaults say
//     otherwise: a FETCH response's items match in any order with extra
//     items allowed; its FLAGS list in any order with no extras but
//     \Recent; the attributes of LIST and LSUB in any order with extras
//     allowed; a STATUS list in pairs in any order. "$!unordered",
//     "$!unordered=N", "$!noextra", "$!extra", "$!ignore=X" and "$!ban=X"
//     at the start of a list change that for the list.
//   - Every answer is also checked the way imaptest's state tracking
//     checks it (see itConn.track), and the script ends with LOGOUT.

// itMsg is one message of a script's mbox: its INTERNALDATE (from the
// mbox From_ line) and its text, in which every bare LF becomes CRLF.
type itMsg struct {
	date string
	text string
}

// itDefaultDate is the From_ line date of most of imaptest's mboxes.
const itDefaultDate = "22-Feb-2008 17:06:23 +0000"

func itMail(text string) itMsg { return itMsg{date: itDefaultDate, text: itCRLF(text)} }

func itMailAt(date, text string) itMsg { return itMsg{date: date, text: itCRLF(text)} }

// itCRLF turns bare LFs into CRLF.
func itCRLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// itDefaultMbox is imaptest's default.mbox: two short messages with no
// header.
var itDefaultMbox = []itMsg{itMail("\nbody\n"), itMail("\nbody2\n")}

// itState is a script's "state:" header; the zero value is imaptest's
// default, selected.
type itState int

const (
	itSelected itState = iota
	itAuth
	itCreated
	itAppended
)

// reaches reports whether a script starting in state s has gone through
// step (auth, created, appended, selected in this order).
func (s itState) reaches(step itState) bool {
	order := map[itState]int{itAuth: 1, itCreated: 2, itAppended: 3, itSelected: 4}
	return order[s] >= order[step]
}

// itScript is a script's header and mbox.
type itScript struct {
	caps     []string // capabilities: the server must advertise all
	conns    int      // connections: (default 1)
	state    itState  // state: (default selected)
	mbox     []itMsg  // the script's .mbox, or imaptest's default.mbox
	messages int      // messages: to append at start (0: all of mbox)
}

// itRun is one run of a script on one database engine.
type itRun struct {
	t     *testing.T
	conns []*itConn
	vars  map[string]string
	mbox  []itMsg
	next  int // next mbox message to append
	// soft makes a wrong answer an error rather than the end of the
	// test, so that a table of searches reports every wrong one.
	soft bool
	srv  *imapd.Server // for the hooks of export_test.go
}

// mismatch reports a wrong answer.
func (it *itRun) mismatch(format string, args ...any) {
	it.t.Helper()
	if it.soft {
		it.t.Errorf(format, args...)
		return
	}
	it.t.Fatalf(format, args...)
}

type itConn struct {
	it  *itRun
	id  int // 1-based, as in scripts
	raw *raw
	n   uint32 // messages the connection has been told about
	tag int
	// What the connection has been told of the selected mailbox.
	uids      []uint32        // by sequence number; 0 if not known
	flags     map[string]bool // the last FLAGS answer, lower-cased
	selecting bool            // a SELECT or EXAMINE is under way
}

// itReplay runs a script's body on SQLite and PostgreSQL.
func itReplay(t *testing.T, sc itScript, body func(it *itRun)) {
	t.Helper()
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		it := itStart(t, newEnv(t, db, nil), sc)
		body(it)
		// imaptest ends a script that does not log out with LOGOUT.
		it.ok(1, "logout", "* bye $")
	})
}

func itStart(t *testing.T, e *env, sc itScript) *itRun {
	t.Helper()
	mbox := sc.mbox
	if mbox == nil {
		mbox = itDefaultMbox
	}
	it := &itRun{t: t, vars: map[string]string{"mailbox": "imaptest", "user": "john@example.test",
		"username": "john", "domain": "example.test"}, mbox: mbox, srv: e.srv}
	conns := max(sc.conns, 1)
	for i := 0; i < conns; i++ {
		r := e.raw(true)
		r.login("john@example.test")
		it.conns = append(it.conns, &itConn{it: it, id: i + 1, raw: r})
	}
	caps := it.capabilities()
	for _, need := range sc.caps {
		if !caps[strings.ToUpper(need)] {
			t.Skipf("imaptest skips this script: CAPABILITY after login lacks %s", need)
		}
	}
	if sc.state.reaches(itCreated) {
		it.ok(1, "create $mailbox")
	}
	if sc.state.reaches(itAppended) {
		n := sc.messages
		if n == 0 {
			n = len(mbox)
		}
		for i := 0; i < n; i++ {
			it.appendNext(1, "ok", "")
		}
	}
	if sc.state.reaches(itSelected) {
		for _, c := range it.conns {
			it.ok(c.id, "select $mailbox")
		}
	}
	return it
}

// capabilities returns what the first connection's CAPABILITY lists.
func (it *itRun) capabilities() map[string]bool {
	caps := map[string]bool{}
	for _, r := range it.cmd(1, "capability", "ok") {
		if len(r) > 1 && strings.EqualFold(r[0].s, "CAPABILITY") {
			for _, c := range r[1:] {
				caps[strings.ToUpper(c.s)] = true
			}
		}
	}
	return caps
}

// ok runs a command that must succeed; want lists untagged answers that
// must ("* ...") or must not ("! ...") come with it.
func (it *itRun) ok(conn int, command string, want ...string) [][]itTok {
	it.t.Helper()
	return it.cmd(conn, command, "ok", want...)
}

func (it *itRun) no(conn int, command string, want ...string) [][]itTok {
	it.t.Helper()
	return it.cmd(conn, command, "no", want...)
}

func (it *itRun) bad(conn int, command string, want ...string) [][]itTok {
	it.t.Helper()
	return it.cmd(conn, command, "bad", want...)
}

// cmd runs one command whose tagged answer must start with tagged ("" for
// any answer).
func (it *itRun) cmd(conn int, command, tagged string, want ...string) [][]itTok {
	it.t.Helper()
	return it.pipe(conn, []string{command}, []string{tagged}, want...)
}

// appendNext appends the next mbox message, as a script's "append" line
// does: with no arguments to $mailbox with the message's INTERNALDATE,
// else with the arguments given (a mailbox and flags) and no date.
func (it *itRun) appendNext(conn int, tagged, args string, want ...string) [][]itTok {
	it.t.Helper()
	m := it.mbox[it.next%len(it.mbox)]
	it.next++
	command := "append " + it.expand(args)
	if args == "" {
		command = "append " + it.vars["mailbox"] + " " + quote(m.date)
	}
	return it.pipeExpanded(conn, []string{command + " " + itLit(m.text)}, []string{tagged}, want...)
}

// itLit spells s as a synchronizing literal.
func itLit(s string) string { return "{" + strconv.Itoa(len(s)) + "}\r\n" + s }

// pipe sends commands on one connection without waiting (a script's
// tagged, pipelined group), then checks each tagged answer and the
// untagged answers of the whole group.
func (it *itRun) pipe(conn int, commands, tagged []string, want ...string) [][]itTok {
	it.t.Helper()
	expanded := make([]string, len(commands))
	for i, command := range commands {
		expanded[i] = it.expand(command)
	}
	return it.pipeExpanded(conn, expanded, tagged, want...)
}

func (it *itRun) pipeExpanded(conn int, commands, tagged []string, want ...string) [][]itTok {
	it.t.Helper()
	c := it.conns[conn-1]
	seqmap := make([]uint32, c.n)
	for i := range seqmap {
		seqmap[i] = uint32(i + 1)
	}
	pats := make([][]itTok, len(want))
	for i, w := range want {
		if !strings.HasPrefix(w, "* ") && !strings.HasPrefix(w, "! ") {
			it.t.Fatalf("untagged pattern %q must start with \"* \" or \"! \"", w)
		}
		pats[i] = it.pattern(w)
	}
	c.selecting = false
	for _, command := range commands {
		verb := strings.ToLower(strings.SplitN(command, " ", 2)[0])
		if verb == "select" || verb == "examine" {
			c.selecting = true
		}
	}
	if c.selecting {
		c.n, c.uids, c.flags = 0, nil, nil
	}
	tags := map[string]int{}
	for i, command := range commands {
		c.tag++
		tag := fmt.Sprintf("%d.%d", c.id, c.tag)
		tags[tag] = i
		c.send(tag, command)
	}
	m := &itMatcher{vars: it.vars, seqmap: seqmap}
	// "$tag" is the tag of the group's (first) command while its answers
	// are matched.
	m.vars["tag"] = fmt.Sprintf("%d.%d", c.id, c.tag-len(commands)+1)
	defer delete(m.vars, "tag")
	found := make([]bool, len(want))
	var untagged [][]itTok
	var log []string
	for pending := len(commands); pending > 0; {
		raw, toks := c.read()
		log = append(log, raw)
		if len(toks) == 0 {
			it.t.Fatalf("connection %d: empty response", conn)
		}
		if toks[0].kind == itAtom && toks[0].s == "*" {
			resp := toks[1:]
			untagged = append(untagged, resp)
			// Matched on arrival, before an EXPUNGE renumbers the
			// messages after it, as imaptest does. One answer may
			// satisfy several expected lines.
			for i, w := range want {
				if found[i] {
					continue
				}
				if m.line(pats[i], resp) {
					if w[0] == '!' {
						it.mismatch("connection %d: %s\n  banned untagged %q came: %q", conn, strings.Join(commands, " / "), w, raw)
					}
					found[i] = true
					m.commit(true)
					continue
				}
				m.commit(false)
			}
			c.track(resp, m, raw)
			continue
		}
		if toks[0].kind == itAtom && toks[0].s == "+" {
			it.t.Fatalf("connection %d: unexpected continuation %q", conn, raw)
		}
		i, ok := tags[toks[0].s]
		if !ok {
			it.t.Fatalf("connection %d: answer with an unknown tag: %q", conn, raw)
		}
		pending--
		if tagged[i] == "" {
			continue
		}
		pat, err := itParse([]byte(tagged[i]))
		if err != nil {
			it.t.Fatalf("bad pattern %q: %v", tagged[i], err)
		}
		okm := m.args(pat, toks[1:], itCtx{top: true}, true)
		m.commit(okm)
		if !okm {
			it.mismatch("connection %d: %s\n  expected tagged %q\n  got %q (untagged %q)", conn, itShorten(commands[i]), tagged[i], raw, log[:len(log)-1])
		}
	}
	for i, w := range want {
		if w[0] == '*' && !found[i] {
			it.mismatch("connection %d: %s\n  missing untagged %q\n  expanded %q\n  got %q", conn, itShorten(strings.Join(commands, " / ")), w, it.expandKnown(w), log)
		}
	}
	return untagged
}

// shorten cuts a command with a long literal for messages.
func itShorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func (it *itRun) pattern(w string) []itTok {
	it.t.Helper()
	toks, err := itParse([]byte(w[2:]))
	if err != nil {
		it.t.Fatalf("bad pattern %q: %v", w, err)
	}
	return toks
}

// track follows the connection's view of the selected mailbox, for "$N",
// and checks what imaptest's state tracking checks of every answer: a
// FETCH or EXPUNGE names a message the client has been told of, EXISTS
// never shrinks the mailbox, a message keeps its UID and UIDs grow with
// sequence numbers, and a keyword in FETCH FLAGS was announced in the
// last FLAGS answer.
func (c *itConn) track(resp []itTok, m *itMatcher, raw string) {
	it := c.it
	it.t.Helper()
	if len(resp) >= 2 && strings.EqualFold(resp[0].s, "FLAGS") && resp[1].kind == itList {
		c.flags = map[string]bool{}
		for _, f := range resp[1].list {
			c.flags[strings.ToLower(f.s)] = true
		}
		return
	}
	if len(resp) < 2 || resp[0].kind != itAtom {
		return
	}
	// VANISHED, EXPUNGE's stand-in once QRESYNC is enabled (RFC 7162
	// 3.2.10), names UIDs; VANISHED (EARLIER) tells of messages the
	// connection no longer has.
	if strings.EqualFold(resp[0].s, "VANISHED") {
		if resp[1].kind == itAtom {
			c.vanish(resp[1].s, m, raw)
		}
		return
	}
	n, err := strconv.ParseUint(resp[0].s, 10, 32)
	if err != nil {
		return
	}
	seq := uint32(n)
	switch strings.ToUpper(resp[1].s) {
	case "EXISTS":
		if seq < c.n && !c.selecting {
			it.mismatch("connection %d: EXISTS shrank the mailbox from %d: %q", c.id, c.n, raw)
		}
		for uint32(len(c.uids)) < seq {
			c.uids = append(c.uids, 0)
		}
		c.uids = c.uids[:seq]
		c.n = seq
	case "EXPUNGE":
		if seq == 0 || seq > c.n {
			it.mismatch("connection %d: EXPUNGE of a message it was not told of (%d messages): %q", c.id, c.n, raw)
			return
		}
		c.n--
		c.uids = append(c.uids[:seq-1], c.uids[seq:]...)
		for i, s := range m.seqmap {
			if s == seq {
				m.seqmap[i] = 0
			} else if s > seq {
				m.seqmap[i]--
			}
		}
	case "FETCH":
		if seq == 0 || seq > c.n {
			it.mismatch("connection %d: FETCH of a message it was not told of (%d messages): %q", c.id, c.n, raw)
			return
		}
		if len(resp) < 3 || resp[2].kind != itList {
			return
		}
		items := resp[2].list
		for i := 0; i+1 < len(items); i += 2 {
			switch strings.ToUpper(items[i].s) {
			case "UID":
				u, _ := strconv.ParseUint(items[i+1].s, 10, 32)
				uid := uint32(u)
				if old := c.uids[seq-1]; old != 0 && old != uid {
					it.mismatch("connection %d: message %d changed its UID from %d: %q", c.id, seq, old, raw)
				}
				for j := range c.uids {
					if o := c.uids[j]; o != 0 && (uint32(j) < seq-1 && o >= uid || uint32(j) > seq-1 && o <= uid) {
						it.mismatch("connection %d: UIDs do not grow with sequence numbers: message %d has UID %d: %q", c.id, j+1, o, raw)
					}
				}
				c.uids[seq-1] = uid
			case "FLAGS":
				for _, f := range items[i+1].list {
					if !strings.HasPrefix(f.s, "\\") && c.flags != nil && !c.flags[strings.ToLower(f.s)] {
						it.mismatch("connection %d: keyword %s used without being in FLAGS: %q", c.id, f.s, raw)
					}
				}
			}
		}
	}
}

// vanish removes the messages of a VANISHED answer's UIDs, which the
// connection must have learnt (by FETCH UID) to number them.
func (c *itConn) vanish(set string, m *itMatcher, raw string) {
	it := c.it
	it.t.Helper()
	for _, r := range strings.Split(set, ",") {
		lo, hi, _ := strings.Cut(r, ":")
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b, err2 := strconv.ParseUint(hi, 10, 32)
		if hi == "" {
			b, err2 = a, nil
		}
		if err1 != nil || err2 != nil {
			it.mismatch("connection %d: bad VANISHED set: %q", c.id, raw)
			return
		}
		for j := len(c.uids) - 1; j >= 0; j-- {
			if u := uint64(c.uids[j]); u == 0 || u < min(a, b) || u > max(a, b) {
				continue
			}
			seq := uint32(j + 1)
			c.n--
			c.uids = append(c.uids[:j], c.uids[j+1:]...)
			for i, s := range m.seqmap {
				if s == seq {
					m.seqmap[i] = 0
				} else if s > seq {
					m.seqmap[i]--
				}
			}
		}
	}
}

// expand replaces the variables of a command.
func (it *itRun) expand(s string) string {
	it.t.Helper()
	out, missing := itExpandVars(s, it.vars)
	if missing != "" {
		it.t.Fatalf("command %q: variable $%s has no value", s, missing)
	}
	return out
}

func (it *itRun) expandKnown(s string) string {
	out, _ := itExpandVars(s, it.vars)
	return out
}

func itExpandVars(s string, vars map[string]string) (string, string) {
	var b strings.Builder
	missing := ""
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		name, n := itVarName(s[i+1:])
		if name == "" {
			b.WriteByte('$')
			continue
		}
		v, ok := vars[name]
		if !ok {
			if missing == "" {
				missing = name
			}
			v = "$" + name
		}
		b.WriteString(v)
		i += n
	}
	return b.String(), missing
}

// varName reads a variable name after "$": "{name}" or letters, digits
// and "_"; it returns the name and the bytes it took.
func itVarName(s string) (string, int) {
	if strings.HasPrefix(s, "{") {
		if end := strings.IndexByte(s, '}'); end > 0 {
			return s[1:end], end + 1
		}
		return "", 0
	}
	n := 0
	for n < len(s) && itIsVarChar(s[n]) {
		n++
	}
	return s[:n], n
}

func itIsVarChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// send writes a command, waiting for the server's "+" before the data of
// each synchronizing literal.
func (c *itConn) send(tag, command string) {
	t := c.it.t
	t.Helper()
	rest := tag + " " + command + "\r\n"
	for {
		i := itLiteralEnd(rest)
		if i < 0 {
			c.raw.send(rest)
			return
		}
		c.raw.send(rest[:i])
		raw, toks := c.read()
		if len(toks) == 0 || toks[0].s != "+" {
			t.Fatalf("connection %d: %q: no continuation for a literal, got %q", c.id, command, raw)
		}
		n, _ := strconv.Atoi(rest[strings.LastIndexByte(rest[:i], '{')+1 : i-3])
		c.raw.send(rest[i : i+n])
		rest = rest[i+n:]
	}
}

// literalEnd returns the index just past the first "{N}\r\n" in s, or -1.
func itLiteralEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i+1 && strings.HasPrefix(s[j:], "}\r\n") {
			return j + 3
		}
	}
	return -1
}

// read reads one response, literals included, and returns its text and
// words.
func (c *itConn) read() (string, []itTok) {
	t := c.it.t
	t.Helper()
	var buf bytes.Buffer
	for {
		c.raw.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := c.raw.r.ReadString('\n')
		if err != nil {
			t.Fatalf("connection %d: read: %v (after %q)", c.id, err, buf.String()+l)
		}
		buf.WriteString(l)
		body := strings.TrimRight(l, "\r\n")
		if !strings.HasSuffix(body, "}") {
			break
		}
		open := strings.LastIndexByte(body, '{')
		n, err := strconv.Atoi(strings.TrimSuffix(body[open+1:len(body)-1], "+"))
		if open < 0 || err != nil {
			break
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(c.raw.r, data); err != nil {
			t.Fatalf("connection %d: read literal: %v", c.id, err)
		}
		buf.Write(data)
	}
	toks, err := itParse(bytes.TrimRight(buf.Bytes(), "\r\n"))
	if err != nil {
		t.Fatalf("connection %d: unparsable response %q: %v", c.id, buf.String(), err)
	}
	return strings.TrimRight(buf.String(), "\r\n"), toks
}

// itTok is one word of a response or pattern.
type itTok struct {
	kind itKind
	s    string
	list []itTok
}

type itKind int

const (
	itAtom itKind = iota
	itString
	itNil
	itList
)

func (t itTok) String() string {
	switch t.kind {
	case itNil:
		return "NIL"
	case itString:
		return strconv.Quote(t.s)
	case itList:
		var parts []string
		for _, s := range t.list {
			parts = append(parts, s.String())
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return t.s
}

// itParse splits a response into words. An atom runs to a space or
// parenthesis, except that brackets keep what they enclose ("BODY[HEADER
// .FIELDS (FROM)]<0>", "[UNSEEN 1]"); quoted strings and literals ({N} or
// ~{N}) are strings; NIL is NIL.
func itParse(b []byte) ([]itTok, error) {
	toks, rest, err := itParseList(b, false)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unbalanced ) at %q", rest)
	}
	return toks, nil
}

func itParseList(b []byte, inList bool) ([]itTok, []byte, error) {
	var out []itTok
	for {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		if len(b) == 0 {
			if inList {
				return nil, nil, fmt.Errorf("unclosed (")
			}
			return out, nil, nil
		}
		switch c := b[0]; {
		case c == ')':
			if !inList {
				return out, b, nil
			}
			return out, b[1:], nil
		case c == '(':
			l, rest, err := itParseList(b[1:], true)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, itTok{kind: itList, list: l})
			b = rest
		case c == '"':
			var s strings.Builder
			i := 1
			for ; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' && i+1 < len(b) {
					i++
				}
				s.WriteByte(b[i])
			}
			if i == len(b) {
				return nil, nil, fmt.Errorf("unclosed quoted string")
			}
			out = append(out, itTok{kind: itString, s: s.String()})
			b = b[i+1:]
		case c == '{' || c == '~' && len(b) > 1 && b[1] == '{':
			start := bytes.IndexByte(b, '{') + 1
			end := bytes.IndexByte(b, '}')
			if end < 0 || !bytes.HasPrefix(b[end:], []byte("}\r\n")) {
				return nil, nil, fmt.Errorf("bad literal at %q", b)
			}
			n, err := strconv.Atoi(strings.TrimSuffix(string(b[start:end]), "+"))
			if err != nil || end+3+n > len(b) {
				return nil, nil, fmt.Errorf("bad literal at %q", b)
			}
			out = append(out, itTok{kind: itString, s: string(b[end+3 : end+3+n])})
			b = b[end+3+n:]
		default:
			i, depth := 0, 0
			for ; i < len(b); i++ {
				ch := b[i]
				if depth == 0 && (ch == ' ' || ch == '(' || ch == ')') {
					break
				}
				switch ch {
				case '[':
					// Brackets keep spaces and parentheses only in a
					// response code or a section ("BODY[...]"): a
					// keyword may hold a lone "[".
					if i == 0 || depth > 0 || itSectionAtom(string(b[:i])) {
						depth++
					}
				case ']':
					if depth > 0 {
						depth--
					}
				case '"':
					if depth > 0 {
						if j := bytes.IndexByte(b[i+1:], '"'); j >= 0 {
							i += j + 1
						}
					}
				}
			}
			s := string(b[:i])
			if strings.Contains(s, "[") {
				// imaptest's parser splits "BODY[HEADER.FIELDS
				// (FROM)]" into words and so does not see whether
				// the field names were quoted: neither does this.
				s = strings.ReplaceAll(s, `"`, "")
			}
			if strings.EqualFold(s, "NIL") {
				out = append(out, itTok{kind: itNil})
			} else {
				out = append(out, itTok{kind: itAtom, s: s})
			}
			b = b[i:]
		}
	}
}

func itSectionAtom(s string) bool {
	switch strings.ToUpper(s) {
	case "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE":
		return true
	}
	return false
}

// itMatcher matches patterns against answers, capturing variables.
type itMatcher struct {
	vars   map[string]string // known values, shared by the run
	seqmap []uint32          // "$N": message N at the command's start is now seqmap[N-1] (0: expunged)
	fresh  map[string]string // captured by the current attempt
}

// commit keeps or drops what the last attempt captured.
func (m *itMatcher) commit(keep bool) {
	if keep {
		for k, v := range m.fresh {
			m.vars[k] = v
		}
	}
	m.fresh = nil
}

func (m *itMatcher) lookup(name string) (string, bool) {
	if v, ok := m.fresh[name]; ok {
		return v, true
	}
	v, ok := m.vars[name]
	return v, ok
}

// itCtx says where a list stands, for imaptest's default list rules.
type itCtx struct {
	top      bool   // the response's own words
	reply    string // FETCH, LIST, LSUB, STATUS, ...
	depth    int    // 1 for a list among the response's words
	index    int    // position among the parent's words (in its chain)
	parent   *itCtx
	prevAtom string
}

// line matches a whole untagged answer.
func (m *itMatcher) line(pat, got []itTok) bool {
	reply := ""
	if len(pat) > 0 && pat[0].kind == itAtom && pat[0].s != "" {
		reply = pat[0].s
		if (reply[0] == '$' || reply[0] >= '0' && reply[0] <= '9') && len(pat) > 1 {
			reply = pat[1].s
		}
	}
	reply = strings.ToLower(reply)
	prefix := reply == "ok" || reply == "no" || reply == "bad" || reply == "bye"
	return m.args(pat, got, itCtx{top: true, reply: reply}, prefix)
}

// args matches words in order; with prefix the answer may have more, and
// the last pattern word need only start the answer's word.
func (m *itMatcher) args(pat, got []itTok, ctx itCtx, prefix bool) bool {
	for i, p := range pat {
		if i >= len(got) {
			return false
		}
		g := got[i]
		switch p.kind {
		case itNil:
			if g.kind != itNil {
				return false
			}
		case itAtom, itString:
			if p.s == "$" {
				continue // "$" matches anything, a list too
			}
			if g.kind != itAtom && g.kind != itString {
				return false
			}
			if !m.text(p.s, g.s, prefix && i == len(pat)-1) {
				return false
			}
		case itList:
			if g.kind != itList {
				return false
			}
			// Within a chain of an unordered list, i is already the
			// index in the chain.
			sub := itCtx{reply: ctx.reply, depth: ctx.depth + 1, index: i, parent: &ctx}
			if i > 0 && pat[i-1].kind == itAtom {
				sub.prevAtom = strings.ToLower(pat[i-1].s)
			}
			if !m.list(p.list, g.list, sub) {
				return false
			}
		}
	}
	return prefix || len(got) == len(pat)
}

// list matches a list under its directives or imaptest's defaults.
func (m *itMatcher) list(pat, got []itTok, ctx itCtx) bool {
	unordered, chain, noextra := false, 1, -1
	var ignore, ban []string
	explicit := false
	for len(pat) > 0 && pat[0].kind == itAtom && strings.HasPrefix(pat[0].s, "$!") {
		explicit = true
		d := pat[0].s[2:]
		pat = pat[1:]
		switch {
		case strings.HasPrefix(d, "unordered"):
			unordered = true
			if noextra == -1 {
				noextra = 0
			}
			if n, err := strconv.Atoi(strings.TrimPrefix(d, "unordered=")); err == nil {
				chain = n
			}
		case d == "ordered":
			unordered = false
		case d == "extra":
			noextra = 0
		case d == "noextra":
			noextra = 1
		case strings.HasPrefix(d, "ignore="):
			ignore = append(ignore, d[len("ignore="):])
		case strings.HasPrefix(d, "ban="):
			ban = append(ban, d[len("ban="):])
		}
	}
	if !explicit && ctx.parent != nil && ctx.parent.top {
		switch {
		case (ctx.reply == "list" || ctx.reply == "lsub") && ctx.index == 1:
			unordered, noextra = true, 0
		case ctx.reply == "status" && ctx.index == 2:
			unordered, noextra, chain = true, 0, 2
		case ctx.reply == "fetch" && ctx.index == 2:
			unordered, noextra, chain = true, 0, 2
		}
	}
	if !explicit && ctx.reply == "fetch" && ctx.parent != nil && ctx.parent.parent != nil && ctx.parent.parent.top &&
		ctx.parent.index == 2 && ctx.prevAtom == "flags" {
		unordered, noextra = true, 1
		ignore = []string{`\recent`, "$HasAttachment", "$HasNoAttachment"}
	}
	if noextra == -1 {
		noextra = 1
	}
	if !unordered {
		return m.args(pat, got, ctx, false)
	}
	if len(got)%chain != 0 {
		return false
	}
	used := make([]bool, len(got))
	for p := 0; p+chain <= len(pat); p += chain {
		found := false
		for g := 0; g+chain <= len(got); g += chain {
			saved := itCopyVars(m.fresh)
			sub := ctx
			if m.args(pat[p:p+chain], got[g:g+chain], sub, false) {
				used[g], found = true, true
				break
			}
			m.fresh = saved
		}
		if !found {
			return false
		}
	}
	for g := 0; g < len(got); g += chain {
		if used[g] || got[g].kind == itList || got[g].kind == itNil {
			continue
		}
		name := got[g].s
		if noextra == 1 && !itContainsFold(ignore, name) {
			return false
		}
		if noextra == 0 && itContainsFold(ban, name) {
			return false
		}
	}
	return true
}

func itCopyVars(v map[string]string) map[string]string {
	if v == nil {
		return nil
	}
	out := make(map[string]string, len(v))
	for k, s := range v {
		out[k] = s
	}
	return out
}

func itContainsFold(l []string, s string) bool {
	for _, v := range l {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// text matches one word with variables: known ones must match exactly,
// unknown ones take the answer's text up to the pattern's next character.
func (m *itMatcher) text(pat, got string, prefix bool) bool {
	j := 0
	for i := 0; i < len(pat); {
		if pat[i] != '$' || i+1 < len(pat) && pat[i+1] == '$' || i+1 == len(pat) {
			if pat[i] == '$' && i+1 < len(pat) {
				i++
			}
			if j >= len(got) || !itEqFold(pat[i], got[j]) {
				return false
			}
			i++
			j++
			continue
		}
		name, n := itVarName(pat[i+1:])
		i += 1 + n
		var value string
		if strings.HasPrefix(name, "case:") {
			value = name[len("case:"):]
		} else if num, err := strconv.Atoi(name); err == nil {
			switch {
			case num < 1 || num > len(m.seqmap):
				value = "<out of range>"
			case m.seqmap[num-1] == 0:
				value = "<expunged>"
			default:
				value = strconv.Itoa(int(m.seqmap[num-1]))
			}
		} else if v, ok := m.lookup(name); ok && name != "" {
			value = v
		} else {
			// Capture up to the next character the pattern wants.
			stop, hasStop := byte(0), i < len(pat)
			if hasStop {
				stop = pat[i]
				if stop == '$' && i+1 < len(pat) && pat[i+1] != '$' {
					next, _ := itVarName(pat[i+1:])
					if v, ok := m.lookup(next); ok && v != "" {
						stop = v[0]
					} else {
						hasStop = false
					}
				}
			}
			k := j
			for k < len(got) && !(hasStop && itEqFold(got[k], stop)) {
				k++
			}
			value = got[j:k]
			if name != "" {
				if m.fresh == nil {
					m.fresh = map[string]string{}
				}
				m.fresh[name] = value
			}
		}
		if !strings.HasPrefix(got[j:], value) {
			return false
		}
		j += len(value)
	}
	return j == len(got) || prefix
}

func itEqFold(a, b byte) bool {
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}
