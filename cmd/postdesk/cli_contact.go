package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// runContact manages a domain's global address book and shows its
// directory.
func runContact(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("contact: say list, import, export or rm")
	}
	sub, args := args[0], args[1:]
	directory := fs.Bool("directory", false, "list: the domain's directory instead of its global address book")
	search := fs.String("search", "", "list: only contacts whose name, address or organisation holds this")
	duplicates := fs.Bool("duplicates", false, "import: also import cards with an address the book already has")
	asCSV := fs.Bool("csv", false, "export: CSV instead of vCards")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	usage := map[string]string{
		"list":   "usage: postdesk contact list DOMAIN [--directory] [--search TEXT]",
		"import": "usage: postdesk contact import DOMAIN FILE.vcf|FILE.csv|- [--duplicates]",
		"export": "usage: postdesk contact export DOMAIN [--csv]   (the global address book on standard output)",
		"rm":     "usage: postdesk contact rm DOMAIN UID",
	}
	u, ok := usage[sub]
	if !ok {
		return fmt.Errorf("contact: unknown subcommand %q (list, import, export, rm)", sub)
	}
	want := map[string]int{"list": 1, "import": 2, "export": 1, "rm": 2}[sub]
	if len(pos) != want {
		return fmt.Errorf("%s", u)
	}
	d, err := address.ParseDomain(pos[0])
	if err != nil {
		return err
	}
	var in io.Reader
	if sub == "import" {
		if pos[1] == "-" {
			in = a.stdin
		} else {
			f, err := os.Open(pos[1])
			if err != nil {
				return fmt.Errorf("contact import: %w", err)
			}
			defer f.Close()
			in = f
		}
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	switch sub {
	case "list":
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		if *directory {
			ps, err := a.tenants.DomainDirectory(ctx, cli(), d)
			if err != nil {
				return err
			}
			fmt.Fprintln(tw, "NAME\tADDRESS\tALIASES")
			for _, p := range ps {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, p.Address, strings.Join(p.Aliases, ","))
			}
			return tw.Flush()
		}
		cs, err := a.tenants.GABContacts(ctx, cli(), d, *search, 0)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tEMAIL\tPHONE\tORGANISATION\tUID")
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.FullName, strings.Join(c.Emails, ","), strings.Join(c.Phones, ","), c.Org, c.UID)
		}
		return tw.Flush()
	case "import":
		rep, err := a.tenants.ImportGAB(ctx, cli(), d, in, *duplicates)
		if rep != nil {
			for _, e := range rep.Errors {
				fmt.Fprintln(a.stdout, e)
			}
		}
		if err != nil {
			return err
		}
		if len(rep.Ignored) > 0 {
			fmt.Fprintf(a.stdout, "columns not imported: %s\n", strings.Join(rep.Ignored, ", "))
		}
		for _, s := range rep.Skipped {
			fmt.Fprintf(a.stdout, "skipped (address already in the book): %s\n", s)
		}
		fmt.Fprintf(a.stdout, "%d contacts imported into the global address book of %s\n", rep.Imported, d)
		return nil
	case "export":
		cs, err := a.tenants.GABContacts(ctx, cli(), d, "", 0)
		if err != nil {
			return err
		}
		if *asCSV {
			return tenants.ContactsCSV(a.stdout, cs)
		}
		for _, c := range cs {
			if _, err := io.WriteString(a.stdout, c.VCard); err != nil {
				return err
			}
		}
		return nil
	}
	if err := a.tenants.DeleteGABContact(ctx, cli(), d, pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "contact %s removed\n", pos[1])
	return nil
}
