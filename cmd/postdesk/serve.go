package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/postdesk/postdesk/mailsvc/msgauth"
	"github.com/postdesk/postdesk/mailsvc/retention"
	"github.com/postdesk/postdesk/mailsvc/tlscert"
	"github.com/postdesk/postdesk/panel"
)

// listener is one server serve runs.
type listener struct {
	name  string
	addr  string
	serve func(net.Listener) error
	stop  func(context.Context) error
}

func runServe(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 0 {
		return fmt.Errorf("serve takes no arguments")
	}
	if a.cfg.Hostname == "" {
		a.cfg.Hostname, _ = os.Hostname()
	}
	if a.set, err = a.cfg.parse(); err != nil {
		return err
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	log := a.log

	pw, err := a.tenants.EnsureFirstAdmin(ctx, a.cfg.AdminPassword)
	if err != nil {
		return err
	}
	if pw != "" && a.cfg.AdminPassword == "" {
		// Printed once, to standard output only: never through the log.
		fmt.Fprintf(a.stdout, "First run: created administrator \"admin\" with password\n%s\nIt is not shown again.\n", pw)
	} else if pw != "" {
		log.Info("first run: created administrator admin with the password from POSTDESK_ADMIN_PASSWORD")
	}

	certs, made, err := tlscert.Open(a.cfg.TLSCert, a.cfg.TLSKey, a.cfg.DataDir, a.cfg.Hostname)
	if err != nil {
		return err
	}
	if made {
		log.Warn("made a self-signed TLS certificate for development; name a real one with --tls-cert and --tls-key")
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := certs.Reload(); err != nil {
				log.Error("TLS reload failed; keeping the old certificate", "err", err)
			} else {
				log.Info("TLS certificate reloaded")
			}
		}
	}()

	mail, err := openMail(ctx, a)
	if err != nil {
		return err
	}

	wm := newWebmailMail(a, mail)
	deps := panel.Deps{Tenants: a.tenants, Logger: log.With("server", "http"), Health: a.db.Ping,
		PublicURL: a.cfg.PublicURL, TrustedProxies: a.set.TrustedProxies, Webmail: webmailConfig(wm), Queue: mail.queue,
		ClientSetup: a.set.ClientSetup, SystemMail: systemMail{mail.store},
		ListModeration: mail.deliverer, DNS: msgauth.NewChecker(mail.resolver), MailHost: a.cfg.Hostname}
	e, err := panel.New(deps)
	if err != nil {
		return err
	}
	httpSrv := httpServer(e, deps)

	listeners := []listener{
		{name: "http", addr: a.cfg.HTTPAddr, serve: httpSrv.Serve, stop: httpSrv.Shutdown},
	}
	// Each mail server adds its listeners in its own wire_*.go file.
	for _, add := range []func(*app, *mailServices, *tlscert.Store) ([]listener, error){smtpListeners, imapListeners, pop3Listeners, ldapListeners, sieveListeners} {
		ls, err := add(a, mail, certs)
		if err != nil {
			return err
		}
		listeners = append(listeners, ls...)
	}
	mail.start(ctx)
	defer mail.stop()
	// Message expiry: one process of those sharing the database runs it
	// at a time (its lease); it stops before the database closes.
	expiry := &retention.Job{Tenants: a.tenants, Store: mail.store, Log: log.With("job", "message expiry")}
	jobCtx, stopJob := context.WithCancel(ctx)
	jobDone := make(chan struct{})
	go func() { defer close(jobDone); expiry.Run(jobCtx) }()
	defer func() { stopJob(); <-jobDone }()
	return serveAll(ctx, a, listeners)
}

// httpServer is the panel's HTTP server. Every request must arrive whole
// within a time sized for the panel's largest body at panel.MinUploadRate
// (the panel cuts it down per request to what that request may send), and
// be answered within as long again; headers and idle connections get far
// less.
func httpServer(h http.Handler, deps panel.Deps) *http.Server {
	read, write := panel.Timeouts(deps)
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: read, WriteTimeout: write,
		IdleTimeout: 2 * time.Minute}
}

// serveAll opens every listener, serves until ctx ends (SIGTERM, SIGINT),
// then stops them, letting each finish what it has accepted.
func serveAll(ctx context.Context, a *app, ls []listener) error {
	var opened []listener
	var nls []net.Listener
	for _, l := range ls {
		if l.addr == "" {
			a.log.Info("listener off", "listener", l.name)
			continue
		}
		nl, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, o := range nls {
				o.Close()
			}
			return fmt.Errorf("listen %s on %s: %w", l.name, l.addr, err)
		}
		a.log.Info("listening", "listener", l.name, "addr", nl.Addr().String())
		opened = append(opened, l)
		nls = append(nls, nl)
	}
	errc := make(chan error, len(opened))
	var wg sync.WaitGroup
	for i, l := range opened {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.serve(nls[i]); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("%s: %w", l.name, err)
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
		a.log.Info("stopping")
	case runErr = <-errc:
		a.log.Error("server failed; stopping", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	for _, l := range opened {
		if err := l.stop(sctx); err != nil {
			a.log.Warn("stop", "listener", l.name, "err", err)
		}
	}
	wg.Wait()
	a.log.Info("stopped")
	return runErr
}
