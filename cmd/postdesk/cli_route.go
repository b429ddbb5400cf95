package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants/queueadmin"
)

// The routing table and the Delivery Options on the command line: the same
// queue calls, and so the same validation, as the panel's Delivery Options
// page and the API.

// openOutbound opens the database and the outbound queue (not its workers)
// for a command. Passwords are sealed with the data folder's queue key, so
// a command that stores one runs with the server's --data.
func (a *app) openOutbound(ctx context.Context) (*queue.Queue, error) {
	if err := a.open(ctx); err != nil {
		return nil, err
	}
	if a.set == nil {
		// Commands have no serve flags, and never run the queue: its
		// settings and delivery's take their packages' defaults.
		a.set = &settings{}
	}
	m, err := openMail(ctx, a)
	if err != nil {
		a.close()
		return nil, err
	}
	return m.queue, nil
}

func runRoute(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("route: say add, rm or list")
	}
	sub, args := args[0], args[1:]
	tls := fs.Bool("tls", false, "connect with TLS from the start (port 465 style) instead of STARTTLS")
	user := fs.String("user", "", "SMTP AUTH user name at the host")
	passwordStdin := fs.Bool("password-stdin", false, "read the SMTP AUTH password from standard input")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	switch sub {
	case "add":
		if len(pos) != 2 {
			return fmt.Errorf("usage: postdesk route add DOMAIN HOST[:PORT] [--tls] [--user U --password-stdin]")
		}
		host, port, err := queueadmin.ParseHostPort(pos[1])
		if err != nil {
			return fmt.Errorf("host %q: %w", pos[1], err)
		}
		r := queueadmin.Route{Domain: pos[0], Relay: queueadmin.Relay{Host: host, Port: port, ImplicitTLS: *tls, Username: *user}}
		if *passwordStdin {
			if *user == "" {
				return fmt.Errorf("--password-stdin needs --user")
			}
			if r.Password, err = readPassword(a.stdin); err != nil {
				return err
			}
		}
		q, err := a.openOutbound(ctx)
		if err != nil {
			return err
		}
		defer a.close()
		if err := q.SetRoute(ctx, cli(), r); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "route %s -> %s saved\n", r.Domain, queueadmin.FormatHostPort(host, port))
		return nil
	case "rm":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk route rm DOMAIN")
		}
		q, err := a.openOutbound(ctx)
		if err != nil {
			return err
		}
		defer a.close()
		if err := q.DeleteRoute(ctx, cli(), pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "route %s removed\n", pos[0])
		return nil
	case "list":
		if len(pos) != 0 {
			return fmt.Errorf("usage: postdesk route list")
		}
		q, err := a.openOutbound(ctx)
		if err != nil {
			return err
		}
		defer a.close()
		routes, err := q.Routes(ctx, cli())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tHOST\tTLS\tUSER")
		for _, r := range routes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Domain, queueadmin.FormatHostPort(r.Host, r.Port), yesNo(r.ImplicitTLS), credentials(r.Relay))
		}
		return tw.Flush()
	}
	return fmt.Errorf("route: unknown subcommand %q (say add, rm or list)", sub)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func credentials(r queueadmin.Relay) string {
	switch {
	case r.Username == "":
		return "-"
	case r.HasPassword:
		return r.Username + " (password stored)"
	}
	return r.Username
}

// deliveryFlags are the Delivery Options page's fields as flags; only the
// flags given change a setting.
type deliveryFlags struct {
	maxConnections, dnsServer, smartHost, smartHostUser, smartHostDelay string
	lifetime, retryIntervals, archive, reportTo, reportEvery            string
	smartHostTLS, smartHostPasswordStdin                                bool
}

func (f *deliveryFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.maxConnections, "max-connections", "", "most delivery connections at once, 1 to 99")
	fs.StringVar(&f.dnsServer, "dns-server", "", "DNS server for MX lookups, IP[:PORT]; empty: the server's default")
	fs.StringVar(&f.smartHost, "smart-host", "", "HOST[:PORT] that takes all remote mail no route names; empty: none")
	fs.BoolVar(&f.smartHostTLS, "smart-host-tls", false, "connect to the smart host with TLS from the start")
	fs.StringVar(&f.smartHostUser, "smart-host-user", "", "SMTP AUTH user name at the smart host; empty drops the credentials")
	fs.BoolVar(&f.smartHostPasswordStdin, "smart-host-password-stdin", false, "read the smart host's password from standard input")
	fs.StringVar(&f.smartHostDelay, "smart-host-delay", "", "wait before each smart host connection, e.g. 30s")
	fs.StringVar(&f.lifetime, "lifetime", "", "how long a message is retried, e.g. 5d")
	fs.StringVar(&f.retryIntervals, "retry-intervals", "", "waits between attempts, e.g. 5m,10m,20m,4h (the last repeats)")
	fs.StringVar(&f.archive, "archive", "", "local mailbox that gets a copy of every outgoing message; empty: none")
	fs.StringVar(&f.reportTo, "report-to", "", "address of the delivery failure report; empty: none")
	fs.StringVar(&f.reportEvery, "report-every", "", "how often the failure report is sent, e.g. 1d")
}

// apply changes s by the flags set in fs; a parse error names its flag.
func (f *deliveryFlags) apply(fs *flag.FlagSet, s *queueadmin.Settings, stdin io.Reader) error {
	set, n := map[string]bool{}, 0
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, name := range []string{"max-connections", "dns-server", "smart-host", "smart-host-tls", "smart-host-user",
		"smart-host-password-stdin", "smart-host-delay", "lifetime", "retry-intervals", "archive", "report-to", "report-every"} {
		if set[name] {
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("delivery set: give at least one setting (see postdesk delivery set --help)")
	}
	dur := func(name, v string, into *time.Duration) error {
		if !set[name] {
			return nil
		}
		d, err := queueadmin.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		*into = d
		return nil
	}
	if set["max-connections"] {
		n, err := fmt.Sscan(f.maxConnections, &s.MaxConnections)
		if err != nil || n != 1 {
			return fmt.Errorf("--max-connections: give a whole number from %d to %d", queue.MinConnections, queue.MaxConnections)
		}
	}
	if set["dns-server"] {
		s.DNSServer = f.dnsServer
	}
	if set["smart-host"] {
		s.SmartHost.Host, s.SmartHost.Port = "", 0
		if f.smartHost != "" {
			h, p, err := queueadmin.ParseHostPort(f.smartHost)
			if err != nil {
				return fmt.Errorf("--smart-host: %w", err)
			}
			s.SmartHost.Host, s.SmartHost.Port = h, p
		}
	}
	if set["smart-host-tls"] {
		s.SmartHost.ImplicitTLS = f.smartHostTLS
	}
	if set["smart-host-user"] {
		s.SmartHost.Username = f.smartHostUser
	}
	if f.smartHostPasswordStdin {
		if s.SmartHost.Username == "" {
			return fmt.Errorf("--smart-host-password-stdin needs --smart-host-user")
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		s.SmartHost.Password = pw
	}
	if err := dur("smart-host-delay", f.smartHostDelay, &s.SmartHostDelay); err != nil {
		return err
	}
	if err := dur("lifetime", f.lifetime, &s.Lifetime); err != nil {
		return err
	}
	if set["retry-intervals"] {
		s.RetryIntervals = nil
		for _, v := range viewmodel.SplitList(f.retryIntervals) {
			d, err := queueadmin.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("--retry-intervals: %w", err)
			}
			s.RetryIntervals = append(s.RetryIntervals, d)
		}
	}
	if set["archive"] {
		s.ArchiveAddress = f.archive
	}
	if set["report-to"] {
		s.ReportAddress = f.reportTo
	}
	return dur("report-every", f.reportEvery, &s.ReportInterval)
}

func runDelivery(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("delivery: say show or set")
	}
	sub, args := args[0], args[1:]
	var f deliveryFlags
	if sub == "set" {
		f.register(fs)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 0 || (sub != "show" && sub != "set") {
		return fmt.Errorf("usage: postdesk delivery show | delivery set [--max-connections N] [--smart-host HOST[:PORT]] ... (see --help)")
	}
	q, err := a.openOutbound(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	s, err := q.DeliveryOptions(ctx, cli())
	if err != nil {
		return err
	}
	if sub == "set" {
		if err := f.apply(fs, s, a.stdin); err != nil {
			return err
		}
		if err := q.SetDeliveryOptions(ctx, cli(), *s); err != nil {
			return err
		}
		if s, err = q.DeliveryOptions(ctx, cli()); err != nil {
			return err
		}
	}
	printDelivery(a.stdout, s)
	return nil
}

func printDelivery(w io.Writer, s *queueadmin.Settings) {
	none := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	smart := "-"
	if s.SmartHost.Host != "" {
		smart = queueadmin.FormatHostPort(s.SmartHost.Host, s.SmartHost.Port)
		if s.SmartHost.ImplicitTLS {
			smart += " (TLS)"
		}
		if s.SmartHost.Username != "" {
			smart += ", user " + credentials(s.SmartHost)
		}
	}
	var retry []string
	for _, d := range s.RetryIntervals {
		retry = append(retry, queueadmin.FormatDuration(d))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "max-connections\t%d\n", s.MaxConnections)
	fmt.Fprintf(tw, "dns-server\t%s\n", none(s.DNSServer))
	fmt.Fprintf(tw, "smart-host\t%s\n", smart)
	fmt.Fprintf(tw, "smart-host-delay\t%s\n", queueadmin.FormatDuration(s.SmartHostDelay))
	fmt.Fprintf(tw, "lifetime\t%s\n", queueadmin.FormatDuration(s.Lifetime))
	fmt.Fprintf(tw, "retry-intervals\t%s\n", strings.Join(retry, ","))
	fmt.Fprintf(tw, "archive\t%s\n", none(s.ArchiveAddress))
	fmt.Fprintf(tw, "report-to\t%s\n", none(s.ReportAddress))
	fmt.Fprintf(tw, "report-every\t%s\n", queueadmin.FormatDuration(s.ReportInterval))
	tw.Flush()
}
