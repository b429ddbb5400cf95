package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/tenants/address"
)

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
