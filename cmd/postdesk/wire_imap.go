package main

import (
	"fmt"

	"github.com/postdesk/postdesk/mailsvc/imapd"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants"
)

// imapListeners builds the IMAP server: STARTTLS on --imap, implicit TLS
// on --imaps, one server (and so one view of each folder) for both.
func imapListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	if a.cfg.IMAPAddr == "" && a.cfg.IMAPSAddr == "" {
		return nil, nil
	}
	maxSize, err := tenants.ParseSize(a.cfg.MaxMessageSize)
	if err != nil {
		return nil, fmt.Errorf("--max-message-size: %w", err)
	}
	cfg := imapd.Config{
		Store:              m.store,
		Tenants:            a.tenants,
		Sessions:           m.sessions,
		Logger:             a.log.With("server", "imap"),
		TLS:                certs.Config(),
		AllowPlaintextAuth: a.cfg.AllowPlaintextAuth,
		MaxMessageSize:     maxSize,
	}
	if cfg.MaxConnections, err = connCap("--imap-max-connections", a.cfg.IMAPMaxConns); err != nil {
		return nil, err
	}
	if cfg.MaxConnectionsPerIP, err = connCap("--imap-max-connections-per-ip", a.cfg.IMAPMaxConnsPerIP); err != nil {
		return nil, err
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
