package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/postdesk/postdesk/tenants/address"
)

func runAlias(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("alias: say add, set, rm or list")
	}
	sub, args := args[0], args[1:]
	inDirectory := fs.Bool("directory", true, "alias set: shown in the domain's directory with its mailbox")
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
	case "set":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk alias set ALIAS_ADDRESS --directory=false|true")
		}
		alias, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.SetAliasDirectory(ctx, cli(), alias, *inDirectory); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "alias %s updated\n", alias)
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
	return fmt.Errorf("alias: unknown subcommand %q (add, set, rm, list)", sub)
}
