package imapd

import (
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// maxPattern bounds a LIST pattern; matching costs its length times a
// name's.
const maxPattern = 1024

// List answers LIST (RFC 9051 6.3.9, LIST-EXTENDED RFC 5258, SPECIAL-USE
// RFC 6154) and LSUB (RFC 3501 6.3.9).
func (s *Session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		// LIST "" "": the hierarchy delimiter and root.
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	var pats []string
	for _, p := range patterns {
		full := p
		if ref != "" && !strings.HasPrefix(p, string(delim)) {
			full = ref + p
		}
		if len(full) > maxPattern {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Pattern too long"}
		}
		pats = append(pats, canonicalPattern(full))
	}
	folders, err := s.st.Folders(s.ctx, s.mailboxID)
	if err != nil {
		return s.fail(err, "list folders")
	}
	kept, err := s.subscriptions()
	if err != nil {
		return s.fail(err, "list folders")
	}
	existing := map[string]*store.Folder{}
	subscribed := map[string]bool{}
	for i := range folders {
		f := &folders[i]
		existing[f.Name] = f
		if f.Subscribed {
			subscribed[f.Name] = true
		}
	}
	for n := range kept {
		if existing[n] == nil {
			subscribed[n] = true
		}
	}
	matches := func(name string) bool {
		for _, p := range pats {
			if matchPattern(p, name) {
				return true
			}
		}
		return false
	}
	hasChildren := func(name string, among func(string) bool) bool {
		prefix := name + string(delim)
		for n := range existing {
			if strings.HasPrefix(n, prefix) && among(n) {
				return true
			}
		}
		for n := range subscribed {
			if strings.HasPrefix(n, prefix) && among(n) {
				return true
			}
		}
		return false
	}

	type entry struct {
		name      string
		attrs     []imap.MailboxAttr
		childInfo bool
	}
	var out []entry
	add := func(name string, extra ...imap.MailboxAttr) *entry {
		f := existing[name]
		e := entry{name: name}
		if f == nil {
			// \NonExistent implies \NoSelect (RFC 5258 3.4, RFC 9051
			// 7.3.1); with selection options imaptest's listext
			// wants it alone. A plain LIST keeps \Noselect for
			// IMAP4rev1 clients, which know only that.
			if !options.SelectSubscribed {
				e.attrs = append(e.attrs, imap.MailboxAttrNoSelect)
			}
			e.attrs = append(e.attrs, imap.MailboxAttrNonExistent)
		} else if f.SpecialUse != "" {
			e.attrs = append(e.attrs, imap.MailboxAttr(f.SpecialUse))
		}
		if (options.ReturnSubscribed || options.SelectSubscribed) && subscribed[name] {
			e.attrs = append(e.attrs, imap.MailboxAttrSubscribed)
		}
		if options.ReturnChildren {
			if hasChildren(name, func(n string) bool { return existing[n] != nil }) {
				e.attrs = append(e.attrs, imap.MailboxAttrHasChildren)
			} else {
				e.attrs = append(e.attrs, imap.MailboxAttrHasNoChildren)
			}
		}
		e.attrs = append(e.attrs, extra...)
		out = append(out, e)
		return &out[len(out)-1]
	}

	lsub := s.cs.imap.Command() == "LSUB"
	if !lsub {
		// go-imap announces CHILDREN (implied by IMAP4rev2): LIST always
		// says which names have children (RFC 3348), as Dovecot does.
		o := *options
		o.ReturnChildren = true
		options = &o
	}
	switch {
	case lsub:
		// Subscribed names that match, and, for "%", the levels above a
		// subscribed name that match without being subscribed
		// (\Noselect).
		seen := map[string]bool{}
		for _, n := range sortedKeys(subscribed) {
			if matches(n) {
				if !seen[n] {
					seen[n] = true
					out = append(out, entry{name: n})
				}
				continue
			}
			levels := strings.Split(n, string(delim))
			for i := len(levels) - 1; i >= 1; i-- {
				a := strings.Join(levels[:i], string(delim))
				if matches(a) && !subscribed[a] && !seen[a] {
					seen[a] = true
					out = append(out, entry{name: a, attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}})
				}
			}
		}
	case options.SelectSubscribed:
		names := map[string]bool{}
		for n := range subscribed {
			names[n] = true
			if options.SelectRecursiveMatch {
				for _, a := range ancestors(n) {
					names[a] = true
				}
			}
		}
		for n := range existing {
			if options.SelectRecursiveMatch {
				names[n] = true
			}
		}
		for _, n := range sortedKeys(names) {
			if !matches(n) {
				continue
			}
			// RECURSIVEMATCH: a name with a subscribed descendant the
			// patterns do not match gets CHILDINFO (RFC 5258 3.5).
			ci := options.SelectRecursiveMatch && hasChildren(n, func(c string) bool { return subscribed[c] && !matches(c) })
			if !subscribed[n] && !ci {
				continue
			}
			e := add(n)
			e.childInfo = ci
		}
	default:
		names := map[string]bool{}
		for n := range existing {
			names[n] = true
			for _, a := range ancestors(n) {
				names[a] = true
			}
		}
		for _, n := range sortedKeys(names) {
			if !matches(n) {
				continue
			}
			f := existing[n]
			if options.SelectSpecialUse && (f == nil || f.SpecialUse == "") {
				continue
			}
			add(n)
		}
	}

	for _, e := range out {
		d := &imap.ListData{Attrs: e.attrs, Delim: delim, Mailbox: e.name}
		if e.childInfo {
			d.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		if options.ReturnStatus != nil && !lsub {
			if f := existing[e.name]; f != nil {
				st, err := s.status(f, options.ReturnStatus)
				if err != nil {
					return err
				}
				d.Status = st
			}
		}
		if err := w.WriteList(d); err != nil {
			return err
		}
	}
	return nil
}

func ancestors(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == byte(delim) {
			out = append(out, name[:i])
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// canonicalPattern spells a leading INBOX level in upper case, since INBOX
// is matched without regard to case.
func canonicalPattern(p string) string {
	if len(p) >= 5 && strings.EqualFold(p[:5], "INBOX") && (len(p) == 5 || p[5] == byte(delim)) {
		return "INBOX" + p[5:]
	}
	return p
}

// matchPattern matches a LIST pattern: "*" matches anything, "%" anything
// but the delimiter. It takes time proportional to the product of the two
// lengths, never more (go-imap's MatchList backtracks exponentially).
func matchPattern(pattern, name string) bool {
	// prev[j]: pattern[:i] matches name[:j].
	prev := make([]bool, len(name)+1)
	cur := make([]bool, len(name)+1)
	prev[0] = true
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		cur[0] = prev[0] && (c == '*' || c == '%')
		for j := 1; j <= len(name); j++ {
			switch c {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '%':
				cur[j] = prev[j] || (cur[j-1] && name[j-1] != byte(delim))
			default:
				cur[j] = prev[j-1] && name[j-1] == c
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(name)]
}
