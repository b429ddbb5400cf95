package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/postdesk/postdesk/tenants/auth"
)

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
