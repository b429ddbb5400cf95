package main

import "github.com/postdesk/postdesk/mailsvc/tlscert"

// pop3Listeners builds the POP3 servers.
func pop3Listeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	notBuilt(a, "pop3", a.cfg.POP3Addr)
	notBuilt(a, "pop3s", a.cfg.POP3SAddr)
	return nil, nil
}
