package smtpd_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// BenchmarkListPost posts one 4 KB message to a list of
// POSTDESK_BENCH_LIST_MEMBERS members (default 1000; the figure
// uses 10000), half local mailboxes, half remote over 50 domains, and
// reports the time from DATA to the 250 (every local copy stored and every
// remote envelope queued, one per member, in one transaction) and the
// peak RSS of the test process. The outbound queue is not run here.
//
//	POSTDESK_BENCH_LIST_MEMBERS=10000 go test -run '^$' -bench ListPost -benchtime 1x ./mailsvc/smtpd
func BenchmarkListPost(b *testing.B) {
	n := 1000
	fmt.Sscan(os.Getenv("POSTDESK_BENCH_LIST_MEMBERS"), &n)
	for _, eng := range tenantstest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			if eng == database.Postgres && os.Getenv(tenantstest.EnvURL) == "" {
				b.Skip("PostgreSQL not configured")
			}
			e := newEnv(b, tenantstest.Open(b, eng), nil)
			_, err := e.ten.CreateList(e.ctx, sys, tenants.ListInput{Address: addr("team@example.test"), Owners: []address.Address{addr("john@example.test")}})
			tcheck(b, err, "list")
			var members []address.Address
			for i := 0; i < n/2; i++ {
				a := fmt.Sprintf("m%d@example.test", i)
				e.mailbox(a, nil)
				members = append(members, addr(a))
			}
			for i := 0; i < n-n/2; i++ {
				members = append(members, addr(fmt.Sprintf("r%d@d%d.test", i, i%50)))
			}
			for len(members) > 0 {
				k := min(len(members), 1000)
				tcheck(b, e.ten.AddListMembers(e.ctx, sys, addr("team@example.test"), members[:k]), "members")
				members = members[k:]
			}
			body := msg("john@example.test", "team@example.test", "bench", "") + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 4096/78)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				tcheck(b, e.post(b, "john@example.test", "team@example.test", body), "post")
				b.ReportMetric(time.Since(start).Seconds(), "DATA-to-250-s")
			}
			b.StopTimer()
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(ru.Maxrss)/1024, "peakRSS-MB")
			var envs int64
			tcheck(b, e.db.Read(e.ctx).Table("queue_messages").Where("kind = ?", queue.KindList).Count(&envs).Error, "count")
			if want := int64((n - n/2) * b.N); envs != want {
				b.Errorf("queued %d envelopes, want %d", envs, want)
			}
		})
	}
}
