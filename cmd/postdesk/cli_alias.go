package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/auth"
)

func runAlias(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("alias: say add, rm or list")
	}
	sub, args := args[0], args[1:]
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	switch sub {
	case "add":
		if len(pos) != 2 {
			return fmt.Errorf("usage: postdesk alias add ALIAS_ADDRESS MAILBOX_ADDRESS")
		}
		alias, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		target, err := address.ParseAddress(pos[1])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.AddAlias(ctx, cli(), alias, target); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "alias %s -> %s added\n", alias, target)
		return nil
	case "rm":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk alias rm ALIAS_ADDRESS")
		}
		alias, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.RemoveAlias(ctx, cli(), alias); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "alias %s removed\n", alias)
		return nil
	case "list":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk alias list DOMAIN|MAILBOX_ADDRESS")
		}
		var d address.Domain
		var mb address.Address
		if strings.Contains(pos[0], "@") {
			if mb, err = address.ParseAddress(pos[0]); err != nil {
				return err
			}
			d = mb.Domain
		} else if d, err = address.ParseDomain(pos[0]); err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		as, err := a.tenants.Aliases(ctx, cli(), d, mb)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ALIAS\tMAILBOX")
		for _, al := range as {
			fmt.Fprintf(tw, "%s\t%s\n", al.Address, al.Mailbox)
		}
		return tw.Flush()
	}
	return fmt.Errorf("alias: unknown subcommand %q (add, rm, list)", sub)
}

func runForward(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || args[0] != "set" {
		return fmt.Errorf("usage: postdesk forward set ADDRESS --to a@x,b@y [--keep=false]")
	}
	to := fs.String("to", "", "comma-separated forward addresses (empty: none)")
	keep := fs.Bool("keep", true, "also store the mail in the mailbox")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk forward set ADDRESS --to a@x,b@y [--keep=false]")
	}
	addr, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	var list []address.Address
	for _, s := range strings.Split(*to, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		f, err := address.ParseAddress(s)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		list = append(list, f)
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if err := a.tenants.SetForwards(ctx, cli(), addr, list, *keep); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "forwards of %s set (%d addresses, store mail %t)\n", addr, len(list), *keep)
	return nil
}

func runResponder(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("responder: say set or off")
	}
	sub, args := args[0], args[1:]
	subject := fs.String("subject", "", "subject of the reply")
	body := fs.String("body", "", "text of the reply")
	from := fs.String("from", "", "first day it answers (RFC 3339)")
	until := fs.String("until", "", "when it stops answering (RFC 3339)")
	days := fs.Int64("interval-days", tenants.DefaultReplyDays, "days between two replies to one sender")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk responder set ADDRESS --subject S --body B [--from DATE --until DATE] | responder off ADDRESS")
	}
	addr, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "set":
		in := tenants.ResponderInput{Enabled: true, Subject: *subject, Body: *body, IntervalDays: *days}
		for _, d := range []struct {
			s   string
			dst **time.Time
		}{{*from, &in.StartsAt}, {*until, &in.EndsAt}} {
			if d.s == "" {
				continue
			}
			t, err := parseDate(d.s)
			if err != nil {
				return err
			}
			*d.dst = &t
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.SetResponder(ctx, cli(), addr, in); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "responder of %s on\n", addr)
		return nil
	case "off":
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.DisableResponder(ctx, cli(), addr); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "responder of %s off\n", addr)
		return nil
	}
	return fmt.Errorf("responder: unknown subcommand %q (set, off)", sub)
}

func runAdmin(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("admin: say add, passwd or list")
	}
	sub, args := args[0], args[1:]
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	switch sub {
	case "add", "passwd":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk admin %s NAME [--password-stdin]", sub)
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		var pw string
		if *passwordStdin {
			if pw, err = readPassword(a.stdin); err != nil {
				return err
			}
		} else if pw, err = auth.RandomPassword(); err != nil {
			return err
		}
		if sub == "add" {
			_, err = a.tenants.CreateAdmin(ctx, cli(), pos[0], pw)
		} else {
			err = a.tenants.SetAdminPassword(ctx, cli(), pos[0], pw)
		}
		if err != nil {
			return err
		}
		if *passwordStdin {
			fmt.Fprintf(a.stdout, "administrator %s: password set\n", pos[0])
		} else {
			fmt.Fprintf(a.stdout, "administrator %s: password\n%s\n", pos[0], pw)
		}
		return nil
	case "list":
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		as, err := a.tenants.Admins(ctx, cli())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCREATED\tLAST-LOGIN")
		for _, ad := range as {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", ad.Name, ad.CreatedAt.UTC().Format(time.RFC3339), date(ad.LastLoginAt))
		}
		return tw.Flush()
	}
	return fmt.Errorf("admin: unknown subcommand %q (add, passwd, list)", sub)
}

func runAPIKey(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: postdesk apikey create --admin | --domain NAME [--description TEXT]")
	}
	admin := fs.Bool("admin", false, "a key for every domain")
	domain := fs.String("domain", "", "a key for this domain only")
	desc := fs.String("description", "", "what the key is for")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return errUsage
	}
	if len(pos) != 0 || *admin == (*domain != "") {
		return fmt.Errorf("usage: postdesk apikey create --admin | --domain NAME [--description TEXT]")
	}
	var d address.Domain
	if *domain != "" {
		if d, err = address.ParseDomain(*domain); err != nil {
			return err
		}
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	key, k, err := a.tenants.CreateAPIKey(ctx, cli(), d, *desc)
	if err != nil {
		return err
	}
	reach := "every domain"
	if *domain != "" {
		reach = "domain " + d.String()
	}
	fmt.Fprintf(a.stdout, "API key %s for %s; it is shown only now:\n%s\n", k.Prefix, reach, key)
	return nil
}

// runPostmaster shows, names or (with "-") clears the system postmaster:
// the mailbox a bare <postmaster> reaches, and postmaster@ of a domain with
// neither a postmaster nor a catchrest. With none named, that mail goes to
// the system mailbox, read in the admin panel.
func runPostmaster(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) > 1 {
		return fmt.Errorf("usage: postdesk postmaster [ADDRESS|-]")
	}
	var addr address.Address
	if len(pos) == 1 && pos[0] != "-" {
		if addr, err = address.ParseAddress(pos[0]); err != nil {
			return err
		}
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if len(pos) == 1 {
		if err := a.tenants.SetSystemPostmaster(ctx, cli(), addr); err != nil {
			return err
		}
	} else if addr, err = a.tenants.SystemPostmaster(ctx, cli()); err != nil {
		return err
	}
	if addr.IsZero() {
		fmt.Fprintln(a.stdout, "no system postmaster is named; its mail goes to the system mailbox (admin panel, System mail)")
		return nil
	}
	fmt.Fprintf(a.stdout, "system postmaster is %s\n", addr)
	return nil
}
