package main

import (
	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
)

// imapListeners builds the IMAP server: STARTTLS on --imap, implicit TLS
// on --imaps, one server (and so one view of each folder) for both.
func imapListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	if a.cfg.IMAPAddr == "" && a.cfg.IMAPSAddr == "" {
		return nil, nil
	}
	cfg := imapd.Config{
		Store:               m.store,
		Tenants:             a.tenants,
		Sessions:            m.sessions,
		Logger:              a.log.With("server", "imap"),
		TLS:                 certs.Config(),
		AllowPlaintextAuth:  a.cfg.AllowPlaintextAuth,
		MaxMessageSize:      a.set.MaxMessageBytes,
		MaxConnections:      a.set.IMAPConns.Total,
		MaxConnectionsPerIP: a.set.IMAPConns.PerIP,
	}
	s, err := imapd.New(cfg)
	if err != nil {
		return nil, err
	}
	return []listener{
		{name: "imap", addr: a.cfg.IMAPAddr, serve: s.Serve, stop: s.Shutdown},
		{name: "imaps", addr: a.cfg.IMAPSAddr, serve: s.ServeTLS, stop: s.Shutdown},
	}, nil
}
