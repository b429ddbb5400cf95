package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// runDKIM manages a domain's DKIM keys with the same tenants calls as the
// panel and the API: add (the first pair, signing at once), rotate (a new
// pair, signing once DNS shows it), records (the TXT records to publish,
// as zone-file lines) and list.
func runDKIM(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	const use = "usage: postdesk dkim add|rotate|records|list DOMAIN"
	if len(args) == 0 {
		return fmt.Errorf("%s", use)
	}
	sub := args[0]
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
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
	switch sub {
	case "add", "rotate":
		add := a.tenants.AddDKIMKeys
		if sub == "rotate" {
			add = a.tenants.RotateDKIMKeys
		}
		keys, err := add(ctx, cli(), dom)
		if err != nil {
			return err
		}
		if keys[0].State == tenants.DKIMActive {
			fmt.Fprintf(a.stdout, "; DKIM keys of %s made; they sign from now on. Publish these records:\n", dom)
		} else {
			fmt.Fprintf(a.stdout, "; new DKIM keys of %s made; they sign once DNS shows these records:\n", dom)
		}
		for _, k := range keys {
			fmt.Fprintln(a.stdout, k.Record.Zone())
		}
		return nil
	case "records":
		keys, err := a.tenants.DKIMKeys(ctx, cli(), dom)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return fmt.Errorf("%s has no DKIM keys: make them with postdesk dkim add %s", dom, dom)
		}
		fmt.Fprintf(a.stdout, "; DKIM records of %s to publish\n", dom)
		for _, k := range keys {
			note := ""
			switch k.State {
			case tenants.DKIMPending:
				note = " ; new: signs once published"
			case tenants.DKIMRetired:
				note = " ; retired: keep until " + k.RetiredAt.Add(tenants.DKIMGrace).Format(time.DateOnly)
			}
			fmt.Fprintln(a.stdout, k.Record.Zone()+note)
		}
		return nil
	case "list":
		keys, err := a.tenants.DKIMKeys(ctx, cli(), dom)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SELECTOR\tTYPE\tSTATE\tMADE")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Selector, k.Algorithm, k.State, k.CreatedAt.Format(time.DateTime))
		}
		return tw.Flush()
	}
	return fmt.Errorf("%s", use)
}
