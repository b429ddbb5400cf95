package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/postdesk/postdesk/tenants/address"
)

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
