package main

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/panel/web"
)

// The panel's Delivery Options and queue pages use the queue through
// web.Queue.
var _ web.Queue = (*queue.Queue)(nil)

// openQueue builds the outbound queue on the mail services (m.queue) and
// adds its workers to their background work. Its local delivery is set
// where delivery is built (smtpListeners), since each needs the other.
func openQueue(a *app, m *mailServices) error {
	port, err := 25, error(nil)
	if a.cfg.SMTPRemotePort != "" {
		port, err = strconv.Atoi(a.cfg.SMTPRemotePort)
	}
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("--smtp-remote-port %q: want a port number", a.cfg.SMTPRemotePort)
	}
	q, err := queue.New(a.db, m.store, a.tenants, nil, queue.Options{
		Hostname:   a.cfg.Hostname,
		Logger:     a.log.With("part", "queue"),
		KeyFile:    filepath.Join(a.cfg.DataDir, "queue.key"),
		DNSServer:  a.cfg.DNSServer,
		RemotePort: port,
	})
	if err != nil {
		return fmt.Errorf("open outbound queue: --dns-server: %w", err)
	}
	m.queue = q
	m.bg = append(m.bg, q.Run)
	return nil
}
