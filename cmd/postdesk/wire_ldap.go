package main

import (
	"github.com/postdesk/postdesk/mailsvc/ldapd"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
)

// ldapListeners builds the read-only LDAP directory: StartTLS on --ldap,
// implicit TLS on --ldaps.
func ldapListeners(a *app, _ *mailServices, certs *tlscert.Store) ([]listener, error) {
	if a.cfg.LDAPAddr == "" && a.cfg.LDAPSAddr == "" {
		return nil, nil
	}
	s, err := ldapd.New(ldapd.Config{
		Tenants:            a.tenants,
		Logger:             a.log.With("server", "ldap"),
		TLS:                certs.Config(),
		AllowPlaintextAuth: a.cfg.AllowPlaintextAuth,
	})
	if err != nil {
		return nil, err
	}
	return []listener{
		{name: "ldap", addr: a.cfg.LDAPAddr, serve: s.Serve, stop: s.Shutdown},
		{name: "ldaps", addr: a.cfg.LDAPSAddr, serve: s.ServeTLS, stop: s.Shutdown},
	}, nil
}
