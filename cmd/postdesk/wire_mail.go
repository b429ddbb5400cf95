package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/dnsres"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
)

// mailServices are the mail parts the servers share: one message store and
// its background work.
type mailServices struct {
	blobs *blob.Files
	store *store.Store
	// deliverer is local delivery, which queues remote recipients on
	// queue, the outbound queue, which delivers its notices to local
	// senders through it (openDelivery).
	deliverer *delivery.Deliverer
	queue     *queue.Queue
	// resolver is the one DNS resolver (--dns-server) of the mail checks
	// and the DKIM signing's key activation.
	resolver *dnsres.Resolver
	// sessions ends the IMAP, POP3 and submission sessions of an account
	// disabled, expired or whose password changed: one watch for the
	// process, one query per interval for all its sessions.
	sessions *tenants.SessionWatch
	// background work started by start and stopped by stop.
	cancel context.CancelFunc
	wg     sync.WaitGroup
	bg     []func(context.Context)
}

func openMail(ctx context.Context, a *app) (*mailServices, error) {
	blobs, err := blob.NewFiles(filepath.Join(a.cfg.DataDir, "blobs"))
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	m := &mailServices{blobs: blobs}
	m.store = store.New(a.db, blobs, store.Options{Logger: a.log.With("part", "store"), BlobRefs: blobRefTables(), Audit: a.tenants})
	if a.db.Dialect() == database.Postgres {
		m.bg = append(m.bg, func(ctx context.Context) { m.store.ListenPostgres(ctx, a.cfg.DatabaseURL) })
	}
	m.bg = append(m.bg, func(ctx context.Context) {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := m.store.CollectGarbage(ctx, 24*time.Hour); err != nil {
					a.log.Warn("blob cleanup", "err", err)
				} else if n > 0 {
					a.log.Info("blob cleanup", "removed", n)
				}
			}
		}
	})
	m.sessions = a.tenants.NewSessionWatch()
	m.bg = append(m.bg, m.sessions.Run)
	if err := openDelivery(a, m); err != nil {
		return nil, err
	}
	return m, nil
}

// blobRefTables are the tables besides mail_messages whose rows keep a blob
// alive: the outbound queue's, and lists' held posts.
func blobRefTables() []string { return []string{queue.BlobTable, delivery.HeldTable} }

func (m *mailServices) start(ctx context.Context) {
	ctx, m.cancel = context.WithCancel(ctx)
	for _, f := range m.bg {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			f(ctx)
		}()
	}
}

func (m *mailServices) stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}
