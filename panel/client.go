package panel

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
)

// clientInfo works out the real client address and whether the client
// reached us over HTTPS. X-Forwarded-For and X-Forwarded-Proto are believed
// only when the connection comes from a trusted proxy; the address is then
// the right-most one in X-Forwarded-For that is not itself a trusted proxy.
func (s *Server) clientInfo(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ip := peerAddr(r)
		https := r.TLS != nil || s.publicHTTPS
		if ip.IsValid() && s.trusted(ip) {
			hops := forwardedFor(r)
			for i := len(hops) - 1; i >= 0; i-- {
				ip = hops[i]
				if !s.trusted(hops[i]) {
					break
				}
			}
			if p := lastValue(r.Header.Values("X-Forwarded-Proto")); p != "" {
				https = https || strings.EqualFold(p, "https")
			}
		}
		addr := ""
		if ip.IsValid() {
			addr = ip.Unmap().String()
		}
		request.SetClient(c, request.Client{Addr: addr, HTTPS: https})
		return next(c)
	}
}

func (s *Server) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.deps.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// forwardedFor returns the parseable addresses of every X-Forwarded-For
// header, in order.
func forwardedFor(r *http.Request) []netip.Addr {
	var out []netip.Addr
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(h, ",") {
			if ip, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

func lastValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	parts := strings.Split(vs[len(vs)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}
