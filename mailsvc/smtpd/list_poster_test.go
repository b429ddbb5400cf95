package smtpd_test

import (
	"strings"
	"testing"

	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// TestListPosterForged: posters are matched by envelope sender, which
// anyone can write. An unauthenticated MX post giving a hosted owner's
// address does not reach an announce list, nor a hosted member's a
// discussion list: both are held for the moderators; the same senders
// logged in (submission) post. A remote owner's post to an announce list
// goes out when SPF vouches for its domain and is held when nothing
// does; a remote member's post to a discussion list needs no more than
// membership.
func TestListPosterForged(t *testing.T) {
	d := mailtest.StartDNS(t)
	d.TXT("remote.test", "v=spf1 ip4:127.0.0.0/8 -all")
	// The hosted domain publishes SPF, as its DNS page asks: mail in its
	// name from elsewhere fails. (One that publishes nothing can't be told
	// from a forger: its members post to discussion lists as remote ones
	// do; msgauth.Verdict.Unchecked.)
	d.TXT("example.test", "v=spf1 ip4:192.0.2.1 -all")
	forEachWith(t, func(t *testing.T, e *env) {
		_, err := e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("news@example.test"), Kind: tenants.ListAnnounce,
			Owners: []address.Address{addr("john@example.test"), addr("boss@remote.test"), addr("chief@nospf.test")}})
		tcheck(t, err, "announce list")
		tcheck(t, e.ten.AddListMembers(e.ctx, sys, addr("news@example.test"), []address.Address{addr("ann@example.test")}), "members")
		_, err = e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("talk@example.test"), Owners: []address.Address{addr("john@example.test")}})
		tcheck(t, err, "discussion list")
		tcheck(t, e.ten.AddListMembers(e.ctx, sys, addr("talk@example.test"),
			[]address.Address{addr("ann@example.test"), addr("john@example.test"), addr("x@nospf.test")}), "members")
		held := func(list string) int64 {
			t.Helper()
			var n int64
			tcheck(t, e.db.Read(e.ctx).Table("list_held").Joins("JOIN lists ON lists.id = list_held.list_id").
				Where("lists.local_part = ?", list).Count(&n).Error, "count held")
			return n
		}
		reached := func(who, subject string) bool {
			t.Helper()
			for _, m := range e.stored(who) {
				if strings.Contains(m, "\r\nHello "+subject+"\r\n") {
					return true
				}
			}
			return false
		}

		// Announce: the owner's address forged over the MX is held.
		tcheck(t, send(e.mx, "john@example.test", []string{"news@example.test"}, msg("john@example.test", "news@example.test", "forged owner", "")), "forged post")
		if reached("ann@example.test", "forged owner") || held("news") != 1 {
			t.Errorf("forged owner's post: reached ann %v, held %d; want held only", reached("ann@example.test", "forged owner"), held("news"))
		}
		tcheck(t, e.post(t, "john@example.test", "news@example.test", msg("john@example.test", "news@example.test", "real owner", "")), "owner's post")
		if !reached("ann@example.test", "real owner") {
			t.Errorf("the owner's post by submission did not reach ann")
		}
		tcheck(t, send(e.mx, "boss@remote.test", []string{"news@example.test"}, msg("boss@remote.test", "news@example.test", "remote owner", "")), "remote owner")
		if !reached("ann@example.test", "remote owner") {
			t.Errorf("a remote owner's post with an SPF pass did not reach ann")
		}
		tcheck(t, send(e.mx, "chief@nospf.test", []string{"news@example.test"}, msg("chief@nospf.test", "news@example.test", "unvouched owner", "")), "unvouched owner")
		if reached("ann@example.test", "unvouched owner") || held("news") != 2 {
			t.Errorf("a remote owner's post nothing vouches for: reached ann %v, held %d; want held", reached("ann@example.test", "unvouched owner"), held("news"))
		}

		// Discussion: a hosted member's address forged over the MX is
		// held; a remote member posts.
		tcheck(t, send(e.mx, "ann@example.test", []string{"talk@example.test"}, msg("ann@example.test", "talk@example.test", "forged member", "")), "forged member")
		if reached("john@example.test", "forged member") || held("talk") != 1 {
			t.Errorf("forged member's post: reached john %v, held %d; want held only", reached("john@example.test", "forged member"), held("talk"))
		}
		tcheck(t, send(e.mx, "x@nospf.test", []string{"talk@example.test"}, msg("x@nospf.test", "talk@example.test", "remote member", "")), "remote member")
		if !reached("ann@example.test", "remote member") {
			t.Errorf("a remote member's post to the discussion list did not reach ann")
		}
	}, envOptions{dns: d, publicURL: "https://mail.example.test"})
}
