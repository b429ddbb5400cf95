package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/postdesk/postdesk/tenants/address"
)

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
