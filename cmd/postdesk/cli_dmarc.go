package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// runDMARC shows or sets the forwarders a domain trusts: mail from their
// networks that fails its author's DMARC p=reject is filed into Junk
// instead of refused (tenants/dmarcforwarders.go).
func runDMARC(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	const use = "usage: postdesk dmarc forwarders DOMAIN [NETWORK,...|-]"
	if len(args) == 0 || args[0] != "forwarders" {
		return fmt.Errorf("%s", use)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return errUsage
	}
	if len(pos) < 1 || len(pos) > 2 {
		return fmt.Errorf("%s", use)
	}
	dom, err := address.ParseDomain(pos[0])
	if err != nil {
		return err
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if len(pos) == 2 {
		list := pos[1]
		if list == "-" {
			list = ""
		}
		nets, err := tenants.ParseForwarders(list)
		if err != nil {
			return err
		}
		if err := a.tenants.SetDMARCForwarders(ctx, cli(), dom, nets); err != nil {
			return err
		}
	}
	nets, err := a.tenants.DMARCForwarders(ctx, cli(), dom)
	if err != nil {
		return err
	}
	if len(nets) == 0 {
		fmt.Fprintf(a.stdout, "%s trusts no forwarders\n", dom)
		return nil
	}
	s := make([]string, len(nets))
	for i, n := range nets {
		s[i] = n.String()
	}
	fmt.Fprintf(a.stdout, "%s trusts forwarders at %s\n", dom, strings.Join(s, ", "))
	return nil
}
