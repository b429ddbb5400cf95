package mailtest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a real DNS server (github.com/miekg/dns) on 127.0.0.1 answering
// from a small zone: the records added, NXDOMAIN for other names, or the
// rcode set for a name. Tests of SPF, DKIM and DMARC point the resolver
// (mailsvc/dnsres) at Addr.
type DNS struct {
	Addr  string
	mu    sync.Mutex
	rrs   map[string][]dns.RR
	rcode map[string]int
	asked int
}

// StartDNS starts a DNS server that stops when the test ends.
func StartDNS(t testing.TB) *DNS {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dns listen: %v", err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), rrs: map[string][]dns.RR{}, rcode: map[string]int{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return d
}

// Add adds a record in zone-file syntax; it panics on a bad one.
func (d *DNS) Add(s string) {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	d.rrs[name] = append(d.rrs[name], rr)
}

// TXT adds a TXT record of name holding value, cut into strings of at
// most 255 octets.
func (d *DNS) TXT(name, value string) {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, value[:255])
		value = value[255:]
	}
	parts = append(parts, value)
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(strings.ToLower(name)), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: parts}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rrs[rr.Hdr.Name] = append(d.rrs[rr.Hdr.Name], rr)
}

// Fail makes every query for name answer rcode (dns.RcodeServerFailure).
func (d *DNS) Fail(name string, rcode int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rcode[dns.Fqdn(strings.ToLower(name))] = rcode
}

// Queries is the number of queries answered so far.
func (d *DNS) Queries() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked
}

// ServeDNS answers one query.
func (d *DNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	d.mu.Lock()
	d.asked++
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	if rc, ok := d.rcode[name]; ok {
		m.Rcode = rc
	} else if rrs, ok := d.rrs[name]; ok {
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	} else {
		m.Rcode = dns.RcodeNameError
	}
	d.mu.Unlock()
	w.WriteMsg(m)
}
