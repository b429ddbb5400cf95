package smtpd_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/mailtest"
	"github.com/postdesk/postdesk/mailsvc/rspamd"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// BenchmarkMXDeliver delivers messages of 4 KB and 100 KB to one local
// mailbox over 1, 8 and 32 concurrent connections on SQLite and
// PostgreSQL, and reports messages per second and the p50/p99 latency of
// the reply to DATA (every 250 is after fsync and commit). The message
// count is POSTDESK_BENCH_MESSAGES (default 200; the figures use
// 2000); peak RSS is the test process's, server and clients together.
//
//	POSTDESK_BENCH_MESSAGES=2000 go test -run '^$' -bench MXDeliver -benchtime 1x ./mailsvc/smtpd
func BenchmarkMXDeliver(b *testing.B) {
	n := 200
	fmt.Sscan(os.Getenv("POSTDESK_BENCH_MESSAGES"), &n)
	for _, eng := range tenantstest.Engines {
		for _, size := range []int{4 << 10, 100 << 10} {
			for _, conns := range []int{1, 8, 32} {
				b.Run(fmt.Sprintf("%s/%dKB/%dconn", eng, size>>10, conns), func(b *testing.B) {
					if eng == database.Postgres && os.Getenv(tenantstest.EnvURL) == "" {
						b.Skip("PostgreSQL not configured")
					}
					db := tenantstest.Open(b, eng)
					e := newEnv(b, db, func(c *smtpd.Config) {
						c.MaxCommands = 1 << 30
						c.MaxConnectionsPerIP = -1 // 32 connections from loopback
					})
					body := msg("a@remote.test", "john@example.test", "bench", "") + strings.Repeat(strings.Repeat("x", 76)+"\r\n", size/78)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						lat := runLoad(b, e.mx, n, conns, body)
						sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
						var total time.Duration
						for _, l := range lat {
							total += l
						}
						b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "msgs/s")
						b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
						b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
						var ru syscall.Rusage
						syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
						b.ReportMetric(float64(ru.Maxrss)/1024, "peakRSS-MB")
					}
				})
			}
		}
	}
}

func runLoad(b *testing.B, a string, n, conns int, body string) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := smtp.Dial(a)
			if err != nil {
				b.Error(err)
				return
			}
			defer cl.Close()
			cl.Hello("bench.test")
			for range next {
				if err := cl.Mail("a@remote.test", nil); err != nil {
					b.Error(err)
					return
				}
				if err := cl.Rcpt("john@example.test", nil); err != nil {
					b.Error(err)
					return
				}
				w, err := cl.Data()
				if err != nil {
					b.Error(err)
					return
				}
				w.Write([]byte(body))
				start := time.Now()
				if err := w.Close(); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat
}

// BenchmarkMXChecks compares the MX's accept rate with the inbound checks
// off and on (SPF, DKIM of an RSA-2048-signed message, DMARC, each lookup
// answered by a loopback DNS server): 4 KB messages to one local mailbox
// over 8 connections on SQLite, POSTDESK_BENCH_MESSAGES of them (default
// 200).
//
//	go test -run '^$' -bench MXChecks -benchtime 1x ./mailsvc/smtpd
func BenchmarkMXChecks(b *testing.B) {
	n := 200
	fmt.Sscan(os.Getenv("POSTDESK_BENCH_MESSAGES"), &n)
	d := mailtest.StartDNS(b)
	d.TXT("remote.test", "v=spf1 ip4:127.0.0.0/8 -all")
	d.TXT("_dmarc.remote.test", "v=DMARC1; p=reject")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	tcheck(b, err, "rsa key")
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	tcheck(b, err, "public key")
	d.TXT("sel._domainkey.remote.test", "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub))
	plain := msg("a@remote.test", "john@example.test", "bench", "") + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 4<<10/78)
	var signed strings.Builder
	tcheck(b, dkim.Sign(&signed, strings.NewReader(plain), &dkim.SignOptions{Domain: "remote.test", Selector: "sel", Signer: key}), "sign")
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "checks-off", true: "checks-on"}[on], func(b *testing.B) {
			o := envOptions{config: func(c *smtpd.Config) {
				c.MaxCommands = 1 << 30
				c.MaxConnectionsPerIP = -1
			}}
			if on {
				o.dns = d
			}
			e := newEnvWith(b, tenantstest.Open(b, database.SQLite), o)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lat := runLoad(b, e.mx, n, 8, signed.String())
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
			if on {
				// Every message was checked: our Authentication-Results
				// on each, with the signature verified.
				for _, m := range e.stored("john@example.test") {
					if !strings.Contains(m, "dkim=pass") || !strings.Contains(m, "spf=pass") || !strings.Contains(m, "dmarc=pass") {
						b.Fatalf("a message without passing checks:\n%.600s", m)
					}
				}
			}
		})
	}
}

// BenchmarkMXRspamd is the MX's accept rate with rspamd scanning every
// message against without, 4 KB messages over 8 connections on SQLite
// (POSTDESK_BENCH_MESSAGES, default 200):
//
//	go test -run '^$' -bench MXRspamd -benchtime 1x ./mailsvc/smtpd
func BenchmarkMXRspamd(b *testing.B) {
	n := 200
	fmt.Sscan(os.Getenv("POSTDESK_BENCH_MESSAGES"), &n)
	url := mailtest.StartRspamd(b)
	for _, on := range []bool{false, true} {
		name := "off"
		o := envOptions{config: func(c *smtpd.Config) {
			c.MaxCommands = 1 << 30
			c.MaxConnectionsPerIP = -1
		}}
		if on {
			name, o.spam = "on", rspamd.New(url, 30*time.Second)
		}
		b.Run(name, func(b *testing.B) {
			e := newEnvWith(b, tenantstest.Open(b, database.SQLite), o)
			body := msg("a@remote.test", "john@example.test", "bench", "") + strings.Repeat(strings.Repeat("x", 76)+"\r\n", (4<<10)/78)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lat := runLoad(b, e.mx, n, 8, body)
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
