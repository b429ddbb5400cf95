package smtpd_test

import (
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// listEnv adds the discussion list team@example.test (owner john) with
// members john, ann (local) and r1, r2 (remote).
func listEnv(t *testing.T, e *env) {
	t.Helper()
	_, err := e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("team@example.test"), Owners: []address.Address{addr("john@example.test")}, BounceThreshold: 1})
	tcheck(t, err, "list")
	tcheck(t, e.ten.AddListMembers(e.ctx, sys, addr("team@example.test"),
		[]address.Address{addr("john@example.test"), addr("ann@example.test"), addr("r1@remote.test"), addr("r2@remote.test")}), "members")
}

// blobText returns the body of the queued message that is the n-th of kind.
func (e *env) queuedBlobs(kind string) []string {
	e.t.Helper()
	var keys []string
	tcheck(e.t, e.db.Read(e.ctx).Table("queue_messages").Where("kind = ?", kind).Order("id").Pluck("blob_key", &keys).Error, "blob keys")
	var out []string
	for _, k := range keys {
		r, err := e.disk.Open(e.ctx, k)
		tcheck(e.t, err, "open blob")
		b, err := io.ReadAll(r)
		r.Close()
		tcheck(e.t, err, "read blob")
		out = append(out, string(b))
	}
	return out
}

// TestListPost: a member's post is stored once: local members get it with
// their own List-* prefix, each remote member one queued envelope with its
// own VERP sender and the same blob; nobody else may post, and a post that
// comes back with the list's List-Id is a loop.
func TestListPost(t *testing.T) {
	forEachWith(t, func(t *testing.T, e *env) {
		listEnv(t, e)
		tcheck(t, e.post(t, "john@example.test", "team@example.test", msg("john@example.test", "team@example.test", "first post", "")), "post")
		for _, who := range []string{"john@example.test", "ann@example.test"} {
			got := e.stored(who)
			if len(got) != 1 {
				t.Fatalf("%s holds %d messages, want 1", who, len(got))
			}
			for _, want := range []string{"List-Id: <team.example.test>", "List-Post: <mailto:team@example.test>",
				"List-Unsubscribe: <https://mail.example.test/lists/u/", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
				"Precedence: list", "Return-Path: <team-bounces+", "first post"} {
				if !strings.Contains(got[0], want) {
					t.Errorf("%s's copy lacks %q:\n%s", who, want, got[0])
				}
			}
		}
		// ann's responder does not answer list mail.
		if rs := e.kinds("responder"); len(rs) != 0 {
			t.Errorf("a responder answered a list post: %+v", rs)
		}
		ls := e.kinds(queue.KindList)
		if len(ls) != 2 {
			t.Fatalf("queued %d list envelopes, want one per remote member: %+v", len(ls), ls)
		}
		senders := map[string]bool{}
		for _, q := range ls {
			if len(q.Rcpts) != 1 || !strings.HasPrefix(q.From, "team-bounces+") || !strings.HasSuffix(q.From, "@example.test") {
				t.Errorf("envelope %+v: want one member and a VERP sender", q)
			}
			senders[q.From] = true
			if !strings.Contains(q.Prefix, "List-Id: <team.example.test>") || !strings.Contains(q.Prefix, "/lists/u/") {
				t.Errorf("envelope prefix lacks the list's fields: %q", q.Prefix)
			}
		}
		if len(senders) != 2 {
			t.Errorf("VERP senders %v: want one per member", senders)
		}
		var blobs int64
		tcheck(t, e.db.Read(e.ctx).Table("queue_messages").Where("kind = ?", queue.KindList).Distinct("blob_key").Count(&blobs).Error, "blobs")
		if blobs != 1 {
			t.Errorf("the post is kept in %d blobs, want 1", blobs)
		}

		// Not a member, the null sender: refused at RCPT.
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<stranger@remote.test>", 250, "")
		c.expect("RCPT TO:<team@example.test>", 550, "5.7.1")
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<>", 250, "")
		c.expect("RCPT TO:<team@example.test>", 550, "5.7.1")
		// The VERP address takes delivery reports only.
		c.expect("RSET", 250, "")
		c.expect("MAIL FROM:<spammer@remote.test>", 250, "")
		c.expect("RCPT TO:<"+ls[0].From+">", 550, "5.1.1")
		c.expect("QUIT", 221, "")

		// The post back with our List-Id (a list of members looping): 554.
		err := e.post(t, "john@example.test", "team@example.test", msg("john@example.test", "team@example.test", "loop", "List-Id: Team <team.example.test>\r\n"))
		if code(err) != 554 {
			t.Errorf("post carrying the list's List-Id: %v, want 554", err)
		}
		// A VERP "bounce" that is no report is refused; a DSN disables
		// the member (threshold 1) and is relayed nowhere.
		if err := send(e.mx, "", []string{ls[0].From}, msg("someone@remote.test", ls[0].From, "hello", "")); code(err) != 550 {
			t.Errorf("non-report to the VERP address: %v, want 550", err)
		}
		dsn := "From: MAILER-DAEMON@remote.test\r\nTo: <" + ls[0].From + ">\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n" +
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; remote.test\r\n\r\nFinal-Recipient: rfc822; " + ls[0].Rcpts[0] +
			"\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
		tcheck(t, send(e.mx, "", []string{ls[0].From}, dsn), "DSN to VERP")
		ms, err := e.ten.ListMembers(e.ctx, sys, addr("team@example.test"))
		tcheck(t, err, "members")
		for _, m := range ms {
			if m.Address == ls[0].Rcpts[0] && !m.Disabled {
				t.Errorf("%s not disabled after a hard bounce with threshold 1", m.Address)
			}
		}
		if n := len(e.kinds(queue.KindForward)); n != 0 {
			t.Errorf("the DSN was relayed: %d forwards queued", n)
		}
		// The owner is told, in john's mailbox.
		if got := e.stored("john@example.test"); len(got) != 2 || !strings.Contains(got[1], "Member disabled by bounces") {
			t.Errorf("owner notice: john holds %d messages", len(got))
		}
	}, envOptions{publicURL: "https://mail.example.test/"})
}

// TestListSubscribeByMail: LIST-subscribe@ mails a confirmation request to
// the envelope sender alone, within the limit per address, carrying nothing
// of the request; a reply to its LIST-confirm+TOKEN@ makes the change once.
func TestListSubscribeByMail(t *testing.T) {
	forEachWith(t, func(t *testing.T, e *env) {
		listEnv(t, e)
		for i := 0; i < tenants.MaxListRequestsPerAddress+3; i++ {
			body := msg("victim@remote.test", "team-subscribe@example.test", "BUY-CHEAP-PILLS", "")
			tcheck(t, send(e.mx, "victim@remote.test", []string{"team-subscribe@example.test"}, body), "subscribe request")
		}
		confs := e.kinds(queue.KindList)
		var toVictim int
		for _, q := range confs {
			if len(q.Rcpts) == 1 && q.Rcpts[0] == "victim@remote.test" {
				toVictim++
				if q.From != "" {
					t.Errorf("confirmation from <%s>, want the null sender", q.From)
				}
			} else {
				t.Errorf("a request mailed someone else: %+v", q)
			}
		}
		if toVictim != tenants.MaxListRequestsPerAddress {
			t.Errorf("%d confirmation requests to one address, want %d", toVictim, tenants.MaxListRequestsPerAddress)
		}
		texts := e.queuedBlobs(queue.KindList)
		if strings.Contains(texts[0], "PILLS") {
			t.Errorf("the confirmation carries the request's text:\n%s", texts[0])
		}
		m := regexp.MustCompile(`Reply-To: <(team-confirm\+[a-z0-9]+@example\.test)>`).FindStringSubmatch(texts[0])
		if m == nil {
			t.Fatalf("no confirm address in:\n%s", texts[0])
		}
		if strings.Contains(strings.Join(e.members(t), " "), "victim") {
			t.Fatal("subscribed before confirming")
		}
		tcheck(t, send(e.mx, "victim@remote.test", []string{m[1]}, msg("victim@remote.test", m[1], "Re: confirm", "")), "confirm")
		if !strings.Contains(strings.Join(e.members(t), " "), "victim@remote.test") {
			t.Fatal("not subscribed after confirming")
		}
		// Unsubscribing asks again, of the member's address.
		tcheck(t, send(e.mx, "victim@remote.test", []string{"team-unsubscribe@example.test"}, msg("victim@remote.test", "team-unsubscribe@example.test", "bye", "")), "unsubscribe")
		if !strings.Contains(strings.Join(e.members(t), " "), "victim@remote.test") {
			t.Fatal("unsubscribed without confirming")
		}
		// A command from the null sender is taken for nobody.
		c := dialRaw(t, e.mx)
		c.expect("EHLO client.test", 250, "")
		c.expect("MAIL FROM:<>", 250, "")
		c.expect("RCPT TO:<team-subscribe@example.test>", 550, "5.1.1")
		c.expect("QUIT", 221, "")
	}, envOptions{publicURL: "https://mail.example.test"})
}

func (e *env) members(t *testing.T) []string {
	ms, err := e.ten.ListMembers(e.ctx, sys, addr("team@example.test"))
	tcheck(t, err, "members")
	var out []string
	for _, m := range ms {
		if m.Member {
			out = append(out, m.Address)
		}
	}
	return out
}

// TestListModeration: a list that holds non-members' posts takes them
// (250) and tells its owner, by mail, with signed approve and reject
// links; approving distributes the post once, a used or forged link does
// nothing, and a post held past its time is dropped with a notice to the
// poster only.
func TestListModeration(t *testing.T) {
	forEachWith(t, func(t *testing.T, e *env) {
		_, err := e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("team@example.test"), Owners: []address.Address{addr("john@example.test")},
			NonMembers: tenants.NonMembersHold})
		tcheck(t, err, "list")
		tcheck(t, e.ten.AddListMembers(e.ctx, sys, addr("team@example.test"), []address.Address{addr("ann@example.test"), addr("r1@remote.test")}), "members")
		for _, s := range []string{"held one", "held two"} {
			tcheck(t, send(e.mx, "stranger@remote.test", []string{"team@example.test"}, msg("stranger@remote.test", "team@example.test", s, "")), "post "+s)
		}
		if got := e.stored("ann@example.test"); len(got) != 0 {
			t.Fatalf("a held post reached ann: %d", len(got))
		}
		notices := e.stored("john@example.test")
		if len(notices) != 2 || !strings.Contains(notices[0], "held one") || strings.Contains(notices[0], "Hello held one") {
			t.Fatalf("owner's notices: %d, want 2 naming the subject and not carrying the post:\n%v", len(notices), notices)
		}
		links := regexp.MustCompile(`https://mail\.example\.test/lists/m/([A-Za-z0-9_.-]+)`)
		ls := links.FindAllStringSubmatch(notices[0], -1)
		if len(ls) != 2 {
			t.Fatalf("links in the notice: %v", ls)
		}
		approve, reject := ls[0][1], ls[1][1]
		if _, err := e.d.Moderate(e.ctx, approve[:len(approve)-3]+"AAA", ""); !errors.Is(err, tenants.ErrBadToken) {
			t.Errorf("forged link: %v", err)
		}
		ch, err := e.d.Moderate(e.ctx, approve, "192.0.2.1")
		if err != nil || ch.Action != tenants.ModerateApprove || ch.Address != "stranger@remote.test" {
			t.Fatalf("approve: %+v %v", ch, err)
		}
		if got := e.stored("ann@example.test"); len(got) != 1 || !strings.Contains(got[0], "Hello held one") || !strings.Contains(got[0], "List-Id: <team.example.test>") {
			t.Fatalf("ann after the approval: %v", got)
		}
		if n := len(e.kinds(queue.KindList)); n != 1 {
			t.Errorf("remote copies queued after approval: %d, want 1", n)
		}
		for _, tok := range []string{approve, reject} {
			if _, err := e.d.Moderate(e.ctx, tok, ""); !errors.Is(err, tenants.ErrBadToken) {
				t.Errorf("link of a moderated post: %v", err)
			}
		}
		if len(e.stored("ann@example.test")) != 1 {
			t.Error("a replayed approval sent the post again")
		}
		// The second post expires: dropped, the poster told (a notice
		// from the null sender, not the post).
		tcheck(t, e.db.Write(e.ctx, func(tx *gorm.DB) error {
			return tx.Table("list_held").Where("1 = 1").Update("expires_at", time.Now().Add(-time.Minute)).Error
		}), "expire")
		n, err := e.d.ExpireHeld(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("expired %d, %v", n, err)
		}
		var toPoster int
		for _, q := range e.kinds(queue.KindList) {
			if len(q.Rcpts) == 1 && q.Rcpts[0] == "stranger@remote.test" && q.From == "" {
				toPoster++
			}
		}
		if toPoster != 1 {
			t.Errorf("notices to the poster: %d, want 1", toPoster)
		}
	}, envOptions{publicURL: "https://mail.example.test"})
}

// TestListArchive: a list's archive mailbox keeps every post it
// distributes, from the same stored body; a mailbox of another domain is
// refused as archive.
func TestListArchive(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		_, err := e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("other@example.test"), Archive: addr("catchrest@c.test")})
		var ve *tenants.ValidationError
		if !errors.As(err, &ve) || ve.Field != "archive" {
			t.Errorf("archive in another domain: %v", err)
		}
		_, err = e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("team@example.test"), Owners: []address.Address{addr("john@example.test")},
			Archive: addr("nosend@example.test")})
		tcheck(t, err, "list")
		tcheck(t, e.ten.AddListMembers(e.ctx, sys, addr("team@example.test"), []address.Address{addr("ann@example.test")}), "members")
		tcheck(t, e.post(t, "john@example.test", "team@example.test", msg("john@example.test", "team@example.test", "archived", "")), "post")
		got := e.stored("nosend@example.test")
		if len(got) != 1 || !strings.Contains(got[0], "Hello archived") || !strings.Contains(got[0], "List-Id: <team.example.test>") {
			t.Fatalf("archive holds %v", got)
		}
		var blobs int64
		tcheck(t, e.db.Read(e.ctx).Table("mail_messages").Where("prefix LIKE ?", "%team.example.test%").Distinct("blob_key").Count(&blobs).Error, "blobs")
		if blobs != 1 {
			t.Errorf("the post is stored in %d blobs, want 1", blobs)
		}
	}, nil)
}
