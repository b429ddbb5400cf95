package main

import (
	"github.com/postdesk/postdesk/mailsvc/greylist"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/rspamd"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
)

// smtpListeners builds the MX and submission servers on the mail
// services' delivery.
func smtpListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	var gl *greylist.Greylist
	if a.set.Greylist > 0 {
		gl = greylist.New(a.db, greylist.Options{Delay: a.set.Greylist, Logger: a.log.With("server", "greylist")})
	}
	var spam *rspamd.Client
	if a.cfg.Rspamd != "" {
		spam = rspamd.New(a.cfg.Rspamd, 0)
	}
	s := smtpd.New(smtpd.Options{
		Config:    smtpConfig(a),
		Tenants:   a.tenants,
		Sessions:  m.sessions,
		Deliverer: m.deliverer,
		Checker:   msgauth.NewChecker(m.resolver),
		Greylist:  gl,
		Spam:      spam,
		Blobs:     m.blobs,
		DB:        a.db,
		TLS:       certs.Config(),
		Logger:    a.log.With("server", "smtp"),
	})
	var ls []listener
	for _, ep := range []struct {
		name, addr string
		e          *smtpd.Endpoint
	}{
		{"smtp", a.cfg.SMTPAddr, s.MX()},
		{"submission", a.cfg.SubmissionAddr, s.Submission()},
		{"submissions", a.cfg.SubmissionsAddr, s.Submissions()},
	} {
		ls = append(ls, listener{name: ep.name, addr: ep.addr, serve: ep.e.Serve, stop: ep.e.Shutdown})
	}
	return ls, nil
}

// smtpConfig is the SMTP servers' part of the settings.
func smtpConfig(a *app) smtpd.Config {
	return smtpd.Config{Hostname: a.cfg.Hostname, AllowPlaintextAuth: a.cfg.AllowPlaintextAuth,
		MaxMessageBytes: a.set.MaxMessageBytes, MinFreeBytes: a.set.MinFreeBytes,
		MaxConnections: a.set.SMTPConns.Total, MaxConnectionsPerIP: a.set.SMTPConns.PerIP,
		MaxSubmissionConnections: a.set.SubmissionConns.Total, MaxSubmissionConnectionsPerIP: a.set.SubmissionConns.PerIP,
		SpamFailClosed: a.set.RspamdFailClosed}
}
