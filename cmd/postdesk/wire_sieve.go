package main

import (
	"github.com/postdesk/postdesk/mailsvc/sieved"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
)

// sieveListeners builds the ManageSieve server on --managesieve.
func sieveListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	if a.cfg.ManageSieveAddr == "" {
		return nil, nil
	}
	s, err := sieved.New(sieved.Config{
		Tenants:            a.tenants,
		Sessions:           m.sessions,
		Logger:             a.log.With("server", "managesieve"),
		TLS:                certs.Config(),
		AllowPlaintextAuth: a.cfg.AllowPlaintextAuth,
	})
	if err != nil {
		return nil, err
	}
	return []listener{{name: "managesieve", addr: a.cfg.ManageSieveAddr, serve: s.Serve, stop: s.Shutdown}}, nil
}
