package main

import (
	"context"
	"flag"
	"fmt"
)

// runUnlock lifts the login throttle through tenants.Unlock, the function
// the panel's admin page calls too: LOGIN from every address, or with --ip
// from that address (and the address's own lock).
func runUnlock(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	ip := fs.String("ip", "", "lift only the lock of LOGIN from this address, and the address's own")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk unlock LOGIN [--ip ADDR]")
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if err := a.tenants.Unlock(ctx, cli(), pos[0], *ip); err != nil {
		return err
	}
	if *ip != "" {
		fmt.Fprintf(a.stdout, "login %s unlocked from %s\n", pos[0], *ip)
	} else {
		fmt.Fprintf(a.stdout, "login %s unlocked\n", pos[0])
	}
	return nil
}
