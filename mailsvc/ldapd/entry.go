package ldapd

import (
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/postdesk/postdesk/tenants"
)

// entry is one inetOrgPerson (RFC 2798) as a search returns it; attribute
// names are kept lower case for matching and spelled out on the wire.
type entry struct {
	dn    string
	attrs map[string][]string // lower-case name: values
}

var objectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson"}

// wire names of the attributes we serve, by lower-case name.
var attrNames = map[string]string{
	"objectclass": "objectClass", "uid": "uid", "cn": "cn", "sn": "sn", "givenname": "givenName", "mail": "mail",
	"telephonenumber": "telephoneNumber", "o": "o", "title": "title", "displayname": "displayName",
}

func newEntry(dn string) entry {
	return entry{dn: dn, attrs: map[string][]string{"objectclass": objectClasses}}
}

func (e entry) set(name string, values ...string) {
	var vs []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			vs = append(vs, v)
		}
	}
	if len(vs) > 0 {
		e.attrs[name] = vs
	}
}

// personEntry is a directory entry: uid=LOCAL,ou=people,BASE.
func personEntry(p tenants.DirectoryPerson, people string) entry {
	e := newEntry("uid=" + strings.ToLower(ldap.EscapeDN(p.LocalPart)) + "," + people)
	e.set("uid", p.LocalPart)
	e.set("cn", p.Name)
	e.set("displayname", p.Name)
	e.set("sn", p.Family)
	e.set("givenname", p.Given)
	e.set("mail", append([]string{p.Address}, p.Aliases...)...)
	return e
}

// contactEntry is a GAB contact: uid=UID,ou=contacts,BASE. cn is its
// name, else its first address; sn the family name, else the name's last
// word (inetOrgPerson requires both).
func contactEntry(c tenants.Contact, contacts string) entry {
	e := newEntry("uid=" + strings.ToLower(ldap.EscapeDN(c.UID)) + "," + contacts)
	name := c.FullName
	if name == "" && len(c.Emails) > 0 {
		name = c.Emails[0]
	}
	sn := c.FamilyName
	if sn == "" {
		if w := strings.Fields(name); len(w) > 0 {
			sn = w[len(w)-1]
		}
	}
	e.set("uid", c.UID)
	e.set("cn", name)
	e.set("displayname", name)
	e.set("sn", sn)
	e.set("givenname", c.GivenName)
	e.set("mail", c.Emails...)
	e.set("telephonenumber", c.Phones...)
	e.set("o", c.Org)
	e.set("title", c.Title)
	return e
}

// pick is the entry's attributes a search asked for: all for none or
// "*" (RFC 4511 4.5.1.8), "1.1" for none.
func (e entry) pick(want []string) map[string][]string {
	out := map[string][]string{}
	all := len(want) == 0
	sel := map[string]bool{}
	for _, w := range want {
		switch w {
		case "*":
			all = true
		case "1.1":
		default:
			sel[strings.ToLower(w)] = true
		}
	}
	for k, v := range e.attrs {
		if all || sel[k] {
			out[attrNames[k]] = v
		}
	}
	return out
}

// matches evaluates a compiled filter (RFC 4511 4.5.1.7) on the entry,
// every attribute matched without regard to case.
func (e entry) matches(f *ber.Packet) bool {
	switch f.Tag {
	case ldap.FilterAnd:
		for _, ch := range f.Children {
			if !e.matches(ch) {
				return false
			}
		}
		return true
	case ldap.FilterOr:
		for _, ch := range f.Children {
			if e.matches(ch) {
				return true
			}
		}
		return false
	case ldap.FilterNot:
		return len(f.Children) == 1 && !e.matches(f.Children[0])
	case ldap.FilterPresent:
		return len(e.values(f.Data.String())) > 0
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch:
		if len(f.Children) != 2 {
			return false
		}
		want := strings.ToLower(str(f.Children[1]))
		for _, v := range e.values(str(f.Children[0])) {
			if strings.ToLower(v) == want {
				return true
			}
		}
		return false
	case ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		if len(f.Children) != 2 {
			return false
		}
		want := strings.ToLower(str(f.Children[1]))
		for _, v := range e.values(str(f.Children[0])) {
			c := strings.Compare(strings.ToLower(v), want)
			if (f.Tag == ldap.FilterGreaterOrEqual && c >= 0) || (f.Tag == ldap.FilterLessOrEqual && c <= 0) {
				return true
			}
		}
		return false
	case ldap.FilterSubstrings:
		if len(f.Children) != 2 {
			return false
		}
		for _, v := range e.values(str(f.Children[0])) {
			if substrings(strings.ToLower(v), f.Children[1].Children) {
				return true
			}
		}
		return false
	}
	// Extensible matches are not offered: undefined is false.
	return false
}

func (e entry) values(attr string) []string { return e.attrs[strings.ToLower(attr)] }

func str(p *ber.Packet) string {
	if s, ok := p.Value.(string); ok {
		return s
	}
	return p.Data.String()
}

// substrings matches initial, any and final parts in order.
func substrings(v string, parts []*ber.Packet) bool {
	pos := 0
	for i, p := range parts {
		s := strings.ToLower(str(p))
		switch p.Tag {
		case ldap.FilterSubstringsInitial:
			if i != 0 || !strings.HasPrefix(v, s) {
				return false
			}
			pos = len(s)
		case ldap.FilterSubstringsAny:
			j := strings.Index(v[pos:], s)
			if j < 0 {
				return false
			}
			pos += j + len(s)
		case ldap.FilterSubstringsFinal:
			if i != len(parts)-1 || len(v)-pos < len(s) || !strings.HasSuffix(v, s) {
				return false
			}
		}
	}
	return true
}
