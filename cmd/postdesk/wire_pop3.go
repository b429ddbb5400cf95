package main

import (
	"github.com/postdesk/postdesk/mailsvc/pop3d"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
)

// pop3Listeners builds the POP3 server: STLS on --pop3, implicit TLS on
// --pop3s.
func pop3Listeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	if a.cfg.POP3Addr == "" && a.cfg.POP3SAddr == "" {
		return nil, nil
	}
	cfg := pop3d.Config{
		Store:               m.store,
		Tenants:             a.tenants,
		Sessions:            m.sessions,
		Logger:              a.log.With("server", "pop3"),
		TLS:                 certs.Config(),
		AllowPlaintextAuth:  a.cfg.AllowPlaintextAuth,
		Hostname:            a.cfg.Hostname,
		MaxConnections:      a.set.POP3Conns.Total,
		MaxConnectionsPerIP: a.set.POP3Conns.PerIP,
	}
	s, err := pop3d.New(cfg)
	if err != nil {
		return nil, err
	}
	return []listener{
		{name: "pop3", addr: a.cfg.POP3Addr, serve: s.Serve, stop: s.Shutdown},
		{name: "pop3s", addr: a.cfg.POP3SAddr, serve: s.ServeTLS, stop: s.Shutdown},
	}, nil
}
