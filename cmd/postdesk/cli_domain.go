package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

func cli() tenants.Scope { return tenants.SystemScope("cli") }

func runDomain(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("domain: say add, list, rm or set")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		desc := fs.String("description", "", "description")
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return errUsage
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk domain add NAME [--description TEXT]")
		}
		name, err := address.ParseDomain(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		d, err := a.tenants.CreateDomain(ctx, cli(), name, *desc)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "domain %s added\n", d.Name)
		return nil
	case "list":
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return errUsage
		}
		if len(pos) > 1 {
			return fmt.Errorf("usage: postdesk domain list [SEARCH]")
		}
		q := tenants.DomainQuery{}
		if len(pos) == 1 {
			q.Search = pos[0]
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		ds, _, err := a.tenants.Domains(ctx, cli(), q)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tACTIVE\tMAILBOXES\tALIASES\tMAX-MAILBOXES\tMAX-ALIASES\tDEFAULT-QUOTA\tMAX-MAILBOX-QUOTA\tSTORAGE-TOTAL\tALIAS-OF\tPOSTMASTER")
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%t\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Active, d.Mailboxes, d.Aliases,
				limit(d.MaxMailboxes), limit(d.MaxAliases), quota(d.DefaultQuota), size(d.MaxMailboxQuota, "default"), size(d.StorageTotal, "-"), dash(d.AliasOf), dash(d.Postmaster))
		}
		return tw.Flush()
	case "rm":
		force := fs.Bool("force", false, "also remove the domain's mailboxes and alias domains")
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return errUsage
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk domain rm NAME [--force]")
		}
		name, err := address.ParseDomain(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.DeleteDomain(ctx, cli(), name, *force); err != nil {
			var ne *tenants.NotEmptyError
			if errors.As(err, &ne) {
				return fmt.Errorf("%w (use --force to remove them too)", err)
			}
			return err
		}
		fmt.Fprintf(a.stdout, "domain %s removed\n", name)
		return nil
	case "set":
		return runDomainSet(ctx, a, fs, args)
	}
	return fmt.Errorf("domain: unknown subcommand %q (add, list, rm, set)", sub)
}

func runDomainSet(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	maxMailboxes := fs.Int64("max-mailboxes", -1, "most mailboxes (0: unlimited)")
	maxAliases := fs.Int64("max-aliases", -1, "most aliases (0: unlimited)")
	defQuota := fs.String("default-quota", "", "default mailbox quota, e.g. 1G (0: unlimited)")
	maxQuota := fs.String("max-mailbox-quota", "", "the largest quota a postmaster may give a mailbox, e.g. 5G (0: the default quota)")
	total := fs.String("storage-total", "", "the most a postmaster may give all mailboxes together, e.g. 100G (0: no bound)")
	aliasOf := fs.String("alias-of", "", "make this an alias of another domain ('-': no longer an alias)")
	active := newOptBool(fs, "active", "true or false")
	postmaster := fs.String("postmaster", "", "the mailbox postmaster@ and abuse@ reach ('-': none)")
	desc := fs.String("description", "", "description")
	mtasts := fs.String("mta-sts", "", "the mode of the domain's own MTA-STS policy: none, testing or enforce")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk domain set NAME [--max-mailboxes N] [--max-aliases N] [--default-quota 1G] [--max-mailbox-quota 5G] [--storage-total 100G] [--alias-of OTHER] [--active=false] [--postmaster ADDRESS] [--mta-sts none|testing|enforce]")
	}
	name, err := address.ParseDomain(pos[0])
	if err != nil {
		return err
	}
	var u tenants.DomainUpdate
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["max-mailboxes"] {
		u.MaxMailboxes = maxMailboxes
	}
	if set["max-aliases"] {
		u.MaxAliases = maxAliases
	}
	if set["default-quota"] {
		q, err := tenants.ParseSize(*defQuota)
		if err != nil {
			return fmt.Errorf("--default-quota: %w", err)
		}
		u.DefaultQuota = &q
	}
	for _, f := range []struct {
		flag string
		v    *string
		dst  **int64
	}{{"max-mailbox-quota", maxQuota, &u.MaxMailboxQuota}, {"storage-total", total, &u.StorageTotal}} {
		if set[f.flag] {
			q, err := tenants.ParseSize(*f.v)
			if err != nil {
				return fmt.Errorf("--%s: %w", f.flag, err)
			}
			*f.dst = &q
		}
	}
	if set["alias-of"] {
		var d address.Domain
		if *aliasOf != "-" && *aliasOf != "" {
			if d, err = address.ParseDomain(*aliasOf); err != nil {
				return fmt.Errorf("--alias-of: %w", err)
			}
		}
		u.AliasOf = &d
	}
	u.Active = active.ptr()
	if set["postmaster"] {
		var pa address.Address
		if *postmaster != "-" && *postmaster != "" {
			if pa, err = address.ParseAddress(*postmaster); err != nil {
				return fmt.Errorf("--postmaster: %w", err)
			}
		}
		u.Postmaster = &pa
	}
	if set["description"] {
		u.Description = desc
	}
	if len(set) == 0 {
		return fmt.Errorf("domain set: nothing to change")
	}
	if set["mta-sts"] {
		if _, err := tenants.ParseMTASTSMode(*mtasts); err != nil {
			return err
		}
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	// The mode was checked above, so once the other settings are saved
	// it can only fail as the database does.
	mode, others := set["mta-sts"], len(set) > 1 || !set["mta-sts"]
	if others {
		if _, err := a.tenants.UpdateDomain(ctx, cli(), name, u); err != nil {
			return err
		}
	}
	if mode {
		if err := a.tenants.SetMTASTSMode(ctx, cli(), name, *mtasts); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "domain %s updated\n", name)
	return nil
}

func limit(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func quota(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return tenants.FormatSize(n)
}

// size formats a size; zero gives none.
func size(n int64, none string) string {
	if n == 0 {
		return none
	}
	return tenants.FormatSize(n)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
