package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/migrations"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/seal"
)

// app is what a command runs with.
type app struct {
	cfg Config
	// set is cfg parsed, for serve (runServe).
	set     *settings
	log     *slog.Logger
	db      *database.DB
	tenants *tenants.Service
	stdin   io.Reader
	stdout  io.Writer
}

type command struct {
	usage string
	serve bool // takes the server flags
	run   func(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {usage: "serve: run the mail and panel servers", serve: true, run: runServe},
		"migrate":   {usage: "migrate: bring the database schema up to date", run: runMigrate},
		"backup":    {usage: "backup DIR | backup verify DIR: a consistent online backup (database, message blobs, keys) into DIR", run: runBackup},
		"restore":   {usage: "restore DIR: a backup onto an empty data folder and database", run: runRestore},
		"domain":    {usage: "domain add|list|rm|set ...", run: runDomain},
		"mailbox":   {usage: "mailbox add|set|list|passwd|rm ...", run: runMailbox},
		"alias":     {usage: "alias add|set|rm|list ...", run: runAlias},
		"contact":   {usage: "contact list|import|export|rm DOMAIN ...: the domain's global address book (list --directory: its directory)", run: runContact},
		"forward":   {usage: "forward set ADDRESS --to a@x,b@y [--keep=false]", run: runForward},
		"responder": {usage: "responder set|off ADDRESS ...", run: runResponder},
		"admin":     {usage: "admin add|passwd|list NAME", run: runAdmin},
		"apikey":    {usage: "apikey create --admin|--domain NAME", run: runAPIKey},
		"app-password": {usage: "app-password add USER NAME --protocols imap,smtp | list USER | rm USER NAME: a user's app passwords",
			run: runAppPassword},
		"unlock": {usage: "unlock LOGIN [--ip ADDR]: lift a login lock", run: runUnlock},
		"postmaster": {usage: "postmaster [ADDRESS|-]: show, name or clear the system postmaster (a bare <postmaster>, and postmaster@ of a domain with no postmaster and no catchrest)",
			run: runPostmaster},
		"route":    {usage: "route add|rm|list DOMAIN [HOST[:PORT]] [--tls] [--user U --password-stdin]", run: runRoute},
		"dmarc":    {usage: "dmarc forwarders DOMAIN [NETWORK,...|-]: forwarders whose mail failing DMARC p=reject goes to Junk instead", run: runDMARC},
		"dkim":     {usage: "dkim add|rotate|records|list DOMAIN: DKIM keys (Ed25519 and RSA-2048) and the TXT records to publish", run: runDKIM},
		"delivery": {usage: "delivery show|set [--max-connections N] [--smart-host HOST[:PORT]] ...", run: runDelivery},
		"list": {usage: "list add ADDRESS [--kind announce|discussion|moderated] [--owner ADDRESS]... [--bounce-threshold N] [--non-members refuse|hold] [--archive MAILBOX] | list rm ADDRESS | list show DOMAIN | list member add|rm LIST ADDRESS... | list member list LIST",
			run: runList},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: postdesk COMMAND [flags] [arguments]")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(w, "  "+cmds[n].usage)
	}
	fmt.Fprintln(w, "Common flags: --data DIR ($POSTDESK_DATA), --database URL ($POSTDESK_DATABASE_URL).")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postdesk: "+describe(err))
		os.Exit(1)
	}
}

// errUsage marks a usage error; the usage text has been printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		usage(os.Stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	a := &app{stdin: stdin, stdout: stdout}
	fs := flag.NewFlagSet("postdesk "+args[0], flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	a.cfg.register(fs, cmd.serve)
	return cmd.run(ctx, a, fs, args[1:])
}

// open opens and migrates the database; every command calls it after
// parsing its flags.
func (a *app) open(ctx context.Context) error {
	log, err := a.cfg.logger()
	if err != nil {
		return err
	}
	a.log = log
	db, err := database.Open(ctx, database.Config{URL: a.cfg.DatabaseURL, DataDir: a.cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	applied, err := migrations.Apply(ctx, db)
	if err != nil {
		db.Close()
		return err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", applied, "version", migrations.Latest())
	}
	a.db = db
	// DKIM private keys are sealed with a key file of their own in the
	// data folder, as the queue's stored passwords are with theirs.
	a.tenants = tenants.New(db, tenants.Options{Logger: log, Sealer: seal.New(filepath.Join(a.cfg.DataDir, "dkim.key"))})
	return nil
}

func (a *app) close() {
	if a.db != nil {
		a.db.Close()
	}
}

func runMigrate(ctx context.Context, a *app, fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 0 {
		return fmt.Errorf("migrate takes no arguments")
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	v, err := migrations.Version(ctx, a.db)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "database at schema version %d (%s)\n", v, a.db.Dialect())
	return nil
}

// describe turns an error into the one line the CLI prints.
func describe(err error) string {
	var ve *tenants.ValidationError
	switch {
	case errors.Is(err, errUsage):
		return "bad usage (see postdesk help)"
	case errors.As(err, &ve):
		return strings.ReplaceAll(ve.Error(), "_", "-")
	case errors.Is(err, tenants.ErrForbidden):
		return "not allowed: " + err.Error()
	}
	return err.Error()
}
