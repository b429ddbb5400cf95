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
)

const appPasswordUsage = "usage: postdesk app-password add USER NAME --protocols imap,smtp | list USER | rm USER NAME"

func runAppPassword(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", appPasswordUsage)
	}
	sub, args := args[0], args[1:]
	protocols := fs.String("protocols", "", "the protocols it may log in over: imap, pop3, smtp, carddav, ldap")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	want := map[string]int{"add": 2, "list": 1, "rm": 2}[sub]
	if want == 0 || len(pos) != want {
		return fmt.Errorf("%s", appPasswordUsage)
	}
	user, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	var protos []tenants.Protocol
	if sub == "add" {
		if protos, err = tenants.ParseProtocols(*protocols); err != nil {
			return err
		}
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	switch sub {
	case "add":
		pw, ap, err := a.tenants.CreateAppPassword(ctx, cli(), user, pos[1], protos)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "app password %q of %s for %s; it is shown only now:\n%s\n", ap.Name, user, ap.Protocols, pw)
	case "list":
		aps, err := a.tenants.AppPasswords(ctx, cli(), user)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tPROTOCOLS\tCREATED\tLAST USED")
		for _, ap := range aps {
			used := "never"
			if ap.LastUsedAt != nil {
				used = ap.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ap.Name, strings.ReplaceAll(ap.Protocols, ",", " "), ap.CreatedAt.UTC().Format(time.RFC3339), used)
		}
		return w.Flush()
	case "rm":
		if err := a.tenants.RevokeAppPassword(ctx, cli(), user, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "app password %q of %s revoked\n", pos[1], user)
	}
	return nil
}
