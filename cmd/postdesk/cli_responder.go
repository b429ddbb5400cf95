package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

func runResponder(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("responder: say set or off")
	}
	sub, args := args[0], args[1:]
	subject := fs.String("subject", "", "subject of the reply")
	body := fs.String("body", "", "text of the reply")
	from := fs.String("from", "", "first day it answers (RFC 3339)")
	until := fs.String("until", "", "when it stops answering: a date (through that day) or an RFC 3339 time")
	days := fs.Int64("interval-days", tenants.DefaultReplyDays, "days between two replies to one sender")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: postdesk responder set ADDRESS --subject S --body B [--from DATE --until DATE] | responder off ADDRESS")
	}
	addr, err := address.ParseAddress(pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "set":
		in := tenants.ResponderInput{Enabled: true, Subject: *subject, Body: *body, IntervalDays: *days}
		for _, d := range []struct {
			s     string
			dst   **time.Time
			parse func(string) (time.Time, error)
		}{{*from, &in.StartsAt, parseDate}, {*until, &in.EndsAt, parseEnd}} {
			if d.s == "" {
				continue
			}
			t, err := d.parse(d.s)
			if err != nil {
				return err
			}
			*d.dst = &t
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.SetResponder(ctx, cli(), addr, in); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "responder of %s on\n", addr)
		return nil
	case "off":
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.tenants.DisableResponder(ctx, cli(), addr); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "responder of %s off\n", addr)
		return nil
	}
	return fmt.Errorf("responder: unknown subcommand %q (set, off)", sub)
}
