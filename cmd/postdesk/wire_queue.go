package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/panel/request"
)

// The panel's Delivery Options and queue pages use the queue through
// request.Queue.
var _ request.Queue = (*queue.Queue)(nil)

// openDelivery builds local delivery (m.deliverer) and the outbound queue
// (m.queue), and adds the queue's workers to the background work. Each
// needs the other: delivery queues remote recipients, the queue delivers
// its notices to local senders. So delivery is built first around the
// queue's Outbox, and the queue around delivery and that Outbox.
func openDelivery(a *app, m *mailServices) error {
	srs, err := delivery.LoadSRS(context.Background(), a.db, nil)
	if err != nil {
		return err
	}
	dnsServer, err := dnsres.ParseServer(a.cfg.DNSServer)
	if err != nil {
		return fmt.Errorf("--dns-server: %w", err)
	}
	m.resolver = &dnsres.Resolver{Server: dnsServer, Timeout: 10 * time.Second}
	outbox := queue.NewOutbox(nil)
	m.deliverer = delivery.New(delivery.Options{
		Tenants:  a.tenants,
		Store:    m.store,
		Queue:    outbox,
		SRS:      srs,
		DKIM:     msgauth.NewSigner(a.tenants),
		Limits:   a.set.SendLimits,
		Hostname: a.cfg.Hostname,
		Logger:   a.log.With("part", "delivery"),
		// Lists' one-click unsubscribe and confirmation links.
		PublicURL: a.cfg.PublicURL,
	})
	m.bg = append(m.bg, func(ctx context.Context) { m.deliverer.RunHeldExpiry(ctx, time.Hour) })
	q, err := queue.New(a.db, m.store, a.tenants, m.deliverer, queue.Options{
		Outbox:     outbox,
		Hostname:   a.cfg.Hostname,
		Logger:     a.log.With("part", "queue"),
		KeyFile:    filepath.Join(a.cfg.DataDir, "queue.key"),
		DNSServer:  a.cfg.DNSServer,
		RemotePort: a.set.RemotePort,
	})
	if err != nil {
		return fmt.Errorf("open outbound queue: --dns-server: %w", err)
	}
	m.queue = q
	m.bg = append(m.bg, q.Run)
	// Rotated DKIM keys sign once DNS shows their records, checked every
	// minute.
	m.bg = append(m.bg, msgauth.NewRotator(a.tenants, m.resolver, a.log.With("part", "dkim"), 0).Run)
	return nil
}
