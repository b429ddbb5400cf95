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

func runMailbox(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("mailbox: say add, set, list, passwd or rm")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		return runMailboxAdd(ctx, a, fs, args)
	case "set":
		return runMailboxSet(ctx, a, fs, args)
	case "list":
		return runMailboxList(ctx, a, fs, args)
	case "passwd":
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return errUsage
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk mailbox passwd ADDRESS (the new password is read from standard input)")
		}
		addr, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		pw, err := readPassword(a.stdin)
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if _, err := a.tenants.UpdateMailbox(ctx, cli(), addr, tenants.MailboxUpdate{Password: &pw}); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "password of %s changed\n", addr)
		return nil
	case "rm":
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return errUsage
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: postdesk mailbox rm ADDRESS")
		}
		addr, err := address.ParseAddress(pos[0])
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.DeleteMailbox(ctx, cli(), addr); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "mailbox %s removed\n", addr)
		return nil
	}
	return fmt.Errorf("mailbox: unknown subcommand %q (add, set, list, passwd, rm)", sub)
}

func runMailboxAdd(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	password := fs.String("password", "", "password")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	passwordHash := fs.String("password-hash", "", "an existing hash, e.g. {SHA512-CRYPT}$6$...")
	name := fs.String("name", "", "full name")
	quotaFlag := fs.String("quota", "", "quota, e.g. 1G (default: the domain's)")
	postmaster := fs.Bool("postmaster", false, "may manage the domain in the panel")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk mailbox add ADDRESS --password P|--password-stdin|--password-hash H [--name N] [--quota 1G]")
	}
	addr, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	n := 0
	for _, given := range []bool{*password != "", *passwordStdin, *passwordHash != ""} {
		if given {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("give exactly one of --password, --password-stdin, --password-hash")
	}
	if *passwordStdin {
		if *password, err = readPassword(a.stdin); err != nil {
			return err
		}
	}
	st := tenants.DefaultMailboxSettings()
	if *quotaFlag != "" {
		if st.QuotaBytes, err = tenants.ParseSize(*quotaFlag); err != nil {
			return fmt.Errorf("--quota: %w", err)
		}
	}
	st.Postmaster = *postmaster
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	_, err = a.tenants.CreateMailbox(ctx, cli(), tenants.NewMailbox{
		Address: addr, Password: *password, PasswordHash: *passwordHash, FullName: *name, Settings: st,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "mailbox %s added\n", addr)
	return nil
}

func runMailboxSet(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	active := newOptBool(fs, "active", "account enabled")
	postmaster := newOptBool(fs, "postmaster", "may manage the domain in the panel")
	maySend := newOptBool(fs, "may-send", "may send through SMTP AUTH")
	webmail := newOptBool(fs, "webmail", "webmail login allowed")
	storeMail := newOptBool(fs, "store-mail", "keep mail (off: only forward)")
	mayResponder := newOptBool(fs, "may-responder", "may set their own autoresponder")
	mayForward := newOptBool(fs, "may-forward", "may set their own forwards")
	inDirectory := newOptBool(fs, "directory", "shown in the domain's directory (webmail, CardDAV, LDAP)")
	mayEditGAB := newOptBool(fs, "may-edit-gab", "may edit the domain's global address book")
	signIn := newOptBool(fs, "sign-in", "may log in (off: a leaver's mailbox, which still takes mail)")
	expires := fs.String("expires", "", "expiry date, RFC 3339 ('never' clears it)")
	inactive := fs.Int64("expire-inactive-days", -1, "expire after N days without login (0: never)")
	afterDays := fs.Int64("expire-after-days", -1, "expire N days after the mailbox was made (0: never)")
	quotaFlag := fs.String("quota", "", "quota, e.g. 1G (0: the domain's default)")
	name := fs.String("name", "", "full name")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk mailbox set ADDRESS [--active=false] [--postmaster] [--may-send=false] [--webmail=false] [--store-mail=false] [--directory=false] [--may-edit-gab] [--sign-in=false] [--expires DATE] [--expire-after-days N] [--expire-inactive-days N] [--quota Q]")
	}
	addr, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	u := tenants.MailboxUpdate{
		Active: active.ptr(), Postmaster: postmaster.ptr(), MaySend: maySend.ptr(), Webmail: webmail.ptr(),
		StoreMail: storeMail.ptr(), MayResponder: mayResponder.ptr(), MayForward: mayForward.ptr(),
		InDirectory: inDirectory.ptr(), MayEditGAB: mayEditGAB.ptr(),
	}
	if p := signIn.ptr(); p != nil {
		off := !*p
		u.SignInOff = &off
	}
	if set["expires"] {
		if strings.EqualFold(*expires, "never") || *expires == "" {
			u.ClearExpiry = true
		} else {
			t, err := parseDate(*expires)
			if err != nil {
				return fmt.Errorf("--expires: %w", err)
			}
			u.ExpiresAt = &t
		}
	}
	if set["expire-inactive-days"] {
		u.ExpireInactiveDays = inactive
	}
	if set["expire-after-days"] {
		u.ExpireAfterDays = afterDays
	}
	if set["quota"] {
		q, err := tenants.ParseSize(*quotaFlag)
		if err != nil {
			return fmt.Errorf("--quota: %w", err)
		}
		u.QuotaBytes = &q
	}
	if set["name"] {
		u.FullName = name
	}
	if len(set) == 0 {
		return fmt.Errorf("mailbox set: nothing to change")
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if _, err := a.tenants.UpdateMailbox(ctx, cli(), addr, u); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "mailbox %s updated\n", addr)
	return nil
}

func runMailboxList(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	search := fs.String("search", "", "only mailboxes whose address or name holds this")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk mailbox list DOMAIN [--search TEXT]")
	}
	d, err := address.ParseDomain(pos[0])
	if err != nil {
		return err
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tNAME\tQUOTA\tACTIVE\tSTORE\tSEND\tWEBMAIL\tPOSTMASTER\tALIASES\tEXPIRES\tLAST-LOGIN")
	for off := 0; ; {
		ms, total, err := a.tenants.Mailboxes(ctx, cli(), tenants.MailboxQuery{Domain: d, Search: *search, Limit: 1000, Offset: off})
		if err != nil {
			return err
		}
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%t\t%t\t%t\t%t\t%d\t%s\t%s\n", m.Address, dash(m.FullName), quota(m.QuotaBytes),
				m.Active, m.StoreMail, m.MaySend, m.Webmail, m.Postmaster, m.Aliases, date(m.ExpiresAt), date(m.LastLoginAt))
		}
		off += len(ms)
		if len(ms) == 0 || int64(off) >= total {
			break
		}
	}
	return tw.Flush()
}

func date(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
