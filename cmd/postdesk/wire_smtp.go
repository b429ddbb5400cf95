package main

import "github.com/postdesk/postdesk/mailsvc/tlscert"

// smtpListeners builds the MX and submission servers.
func smtpListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	notBuilt(a, "smtp", a.cfg.SMTPAddr)
	notBuilt(a, "submission", a.cfg.SubmissionAddr)
	notBuilt(a, "submissions", a.cfg.SubmissionsAddr)
	return nil, nil
}

// notBuilt says in the log that a configured listener has no server in
// this build.
func notBuilt(a *app, name, addr string) {
	if addr != "" {
		a.log.Warn("this build has no server for this listener yet; not listening", "listener", name, "addr", addr)
	}
}
