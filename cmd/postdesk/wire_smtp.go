package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/smtpd"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/tenants"
)

// smtpListeners builds local delivery, which hands remote recipients to
// the outbound queue (m.queue, built by openQueue) and takes the queue's
// notices to local senders, and the MX and submission servers.
func smtpListeners(a *app, m *mailServices, certs *tlscert.Store) ([]listener, error) {
	ctx := context.Background()
	cfg, err := smtpConfig(a)
	if err != nil {
		return nil, err
	}
	srs, err := delivery.LoadSRS(ctx, a.db, nil)
	if err != nil {
		return nil, err
	}
	q := m.queue // built by openQueue, which also runs it
	d := delivery.New(delivery.Options{
		Tenants:  a.tenants,
		Store:    m.store,
		Queue:    queueAdapter{q},
		SRS:      srs,
		Limits:   delivery.RateLimits(cfg.Limits), // remote forwards count as the SMTP server's submissions do
		Hostname: a.cfg.Hostname,
		Logger:   a.log.With("part", "delivery"),
	})
	q.SetLocalDeliverer(d)

	s := smtpd.New(smtpd.Options{
		Config:    cfg,
		Tenants:   a.tenants,
		Sessions:  m.sessions,
		Deliverer: d,
		Blobs:     m.blobs,
		DB:        a.db,
		TLS:       certs.Config(),
		Logger:    a.log.With("server", "smtp"),
	})
	m.submit = newWebmailSubmitter(a, d, s, cfg.MaxMessageBytes)
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

// smtpConfig reads the SMTP settings of the configuration.
func smtpConfig(a *app) (smtpd.Config, error) {
	c := smtpd.Config{Hostname: a.cfg.Hostname, AllowPlaintextAuth: a.cfg.AllowPlaintextAuth}
	var err error
	if c.MaxMessageBytes, err = tenants.ParseSize(a.cfg.MaxMessageSize); err != nil {
		return c, fmt.Errorf("--max-message-size: %w", err)
	}
	if c.MinFreeBytes, err = tenants.ParseSize(a.cfg.MinFreeDisk); err != nil {
		return c, fmt.Errorf("--min-free-disk: %w", err)
	}
	if c.MinFreeBytes == 0 {
		c.MinFreeBytes = -1 // 0 turns the check off, which the Config spells -1
	}
	for _, f := range []struct {
		flag, v string
		dst     *int
	}{
		{"--smtp-max-connections", a.cfg.SMTPMaxConns, &c.MaxConnections},
		{"--smtp-max-connections-per-ip", a.cfg.SMTPMaxConnsPerIP, &c.MaxConnectionsPerIP},
		{"--submission-max-connections", a.cfg.SubmissionMaxConns, &c.MaxSubmissionConnections},
		{"--submission-max-connections-per-ip", a.cfg.SubmissionMaxConnsPerIP, &c.MaxSubmissionConnectionsPerIP},
	} {
		if *f.dst, err = connCap(f.flag, f.v); err != nil {
			return c, err
		}
	}
	f := strings.Split(a.cfg.SendLimits, ",")
	if len(f) != 4 {
		return c, fmt.Errorf("--send-limits %q: give four numbers: mailbox per hour, per day, domain per hour, per day", a.cfg.SendLimits)
	}
	dst := []*int64{&c.Limits.MailboxPerHour, &c.Limits.MailboxPerDay, &c.Limits.DomainPerHour, &c.Limits.DomainPerDay}
	for i, v := range f {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n == 0 || n < -1 {
			return c, fmt.Errorf("--send-limits %q: %q is not a positive number or -1", a.cfg.SendLimits, v)
		}
		*dst[i] = n
	}
	return c, nil
}

// connCap reads a connection cap flag: a positive number, or -1 for no
// cap.
func connCap(flag, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n == 0 || n < -1 {
		return 0, fmt.Errorf("%s %q: give a positive number, or -1 for no cap", flag, v)
	}
	return n, nil
}

// queueAdapter gives delivery the queue under delivery's own interface.
type queueAdapter struct{ q *queue.Queue }

func (a queueAdapter) EnqueueTx(tx *gorm.DB, e delivery.Outbound) error {
	return a.q.EnqueueTx(tx, queue.Envelope{BlobKey: e.BlobKey, Prefix: e.Prefix, From: e.From, Rcpts: e.Rcpts,
		MailboxID: e.MailboxID, DomainID: e.DomainID, Kind: e.Kind})
}

func (a queueAdapter) Kick() { a.q.Kick() }
