package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// addressFlags is a flag that may be given several times (--owner A --owner B).
type addressFlags []address.Address

func (f *addressFlags) String() string {
	s := make([]string, len(*f))
	for i, a := range *f {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func (f *addressFlags) Set(v string) error {
	a, err := address.ParseAddress(v)
	if err != nil {
		return fmt.Errorf("%q: %w", v, err)
	}
	*f = append(*f, a)
	return nil
}

func parseAddresses(args []string) ([]address.Address, error) {
	out := make([]address.Address, 0, len(args))
	for _, s := range args {
		a, err := address.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func runList(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("list: say add, rm, show or member")
	}
	sub, args := args[0], args[1:]
	if sub == "member" {
		return runListMember(ctx, a, fs, args)
	}
	kind := fs.String("kind", tenants.ListDiscussion, "who posts: announce (owners and moderators), discussion (members), moderated")
	threshold := fs.Int64("bounce-threshold", -1, "hard bounces within 30 days that disable a member (0: never; default 5)")
	nonMembers := fs.String("non-members", tenants.NonMembersRefuse, "non-members' posts: refuse (550) or hold (for a moderator)")
	archive := fs.String("archive", "", "a mailbox of the list's domain that keeps every post")
	var owners addressFlags
	fs.Var(&owners, "owner", "an owner's address (repeat for more)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	switch sub {
	case "add":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk list add ADDRESS [--kind announce|discussion|moderated] [--owner ADDRESS]... [--bounce-threshold N] [--non-members refuse|hold] [--archive MAILBOX]")
		}
		la, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		in := tenants.ListInput{Address: la, Kind: *kind, Owners: owners, BounceThreshold: *threshold,
			NonMembers: *nonMembers}
		if *archive != "" {
			arch, err := address.ParseAddress(*archive)
			if err != nil {
				return fmt.Errorf("--archive: %w", err)
			}
			in.Archive = arch
		}
		l, err := a.tenants.CreateList(ctx, cli(), in)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "list %s added (%s)\n", la, l.Kind)
		return nil
	case "rm":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk list rm ADDRESS")
		}
		la, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.RemoveList(ctx, cli(), la); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "list %s removed\n", la)
		return nil
	case "show":
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk list show DOMAIN")
		}
		d, err := address.ParseDomain(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		ls, err := a.tenants.Lists(ctx, cli(), d)
		if err != nil {
			return err
		}
		for _, l := range ls {
			fmt.Fprintf(a.stdout, "%s@%s\t%s\n", l.LocalPart, d, l.Kind)
		}
		return nil
	}
	return fmt.Errorf("list: unknown subcommand %q (add, rm, show, member)", sub)
}

func runListMember(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("list member: say add, rm or list")
	}
	sub, args := args[0], args[1:]
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) < 1 || (sub != "list" && len(pos) < 2) || (sub == "list" && len(pos) != 1) {
		return fmt.Errorf("usage: postdesk list member add|rm LIST ADDRESS... | list member list LIST")
	}
	la, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	addrs, err := parseAddresses(pos[1:])
	if err != nil {
		return err
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	switch sub {
	case "add":
		if err := a.tenants.AddListMembers(ctx, cli(), la, addrs); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d added to %s\n", len(addrs), la)
		return nil
	case "rm":
		if err := a.tenants.RemoveListMembers(ctx, cli(), la, addrs); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d removed from %s\n", len(addrs), la)
		return nil
	case "list":
		ms, err := a.tenants.ListMembers(ctx, cli(), la)
		if err != nil {
			return err
		}
		// One member a line, the address first; roles and states after it.
		for _, m := range ms {
			if !m.Member {
				continue
			}
			var notes []string
			if m.Owner {
				notes = append(notes, "owner")
			}
			if m.Moderator {
				notes = append(notes, "moderator")
			}
			if m.Paused {
				notes = append(notes, "paused")
			}
			if m.Disabled {
				notes = append(notes, "disabled")
			}
			line := m.Address
			if len(notes) > 0 {
				line += "\t" + strings.Join(notes, ",")
			}
			fmt.Fprintln(a.stdout, line)
		}
		return nil
	}
	return fmt.Errorf("list member: unknown subcommand %q (add, rm, list)", sub)
}
