package main

import "github.com/postdesk/postdesk/mailsvc/tlscert"

// imapListeners builds the IMAP servers.
func imapListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	notBuilt(a, "imap", a.cfg.IMAPAddr)
	notBuilt(a, "imaps", a.cfg.IMAPSAddr)
	return nil, nil
}
