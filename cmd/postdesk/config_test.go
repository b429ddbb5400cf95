package main

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/delivery"
)

// parsedFields are the Config fields Config.parse turns into settings;
// nothing else reads them.
var parsedFields = []string{"MaxMessageSize", "MinFreeDisk", "SendLimits", "SMTPMaxConns", "SMTPMaxConnsPerIP",
	"SubmissionMaxConns", "SubmissionMaxConnsPerIP", "IMAPMaxConns", "IMAPMaxConnsPerIP", "POP3MaxConns",
	"POP3MaxConnsPerIP", "SMTPRemotePort", "TrustedProxies", "PublicPorts", "Greylist", "RspamdFail"}

// TestConfigParsedOnce: the flags that need parsing are parsed in one
// place, Config.parse (config.go); the wiring reads the typed settings,
// never the flag's text.
func TestConfigParsedOnce(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	parsed := map[string]bool{}
	for _, f := range parsedFields {
		parsed[f] = true
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if name == "config.go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || !parsed[sel.Sel.Name] {
				return true
			}
			// The Config is a.cfg (or a variable cfg); the settings
			// have fields of the same names.
			if x, ok := sel.X.(*ast.SelectorExpr); (ok && x.Sel.Name == "cfg") || isIdent(sel.X, "cfg") {
				t.Errorf("%s: reads Config.%s; use the parsed settings (Config.parse)", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// TestConfigParse: the settings come parsed from flags and environment;
// a bad value is refused naming its flag.
func TestConfigParse(t *testing.T) {
	parse := func(t *testing.T, args ...string) (*settings, error) {
		t.Helper()
		var cfg Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		cfg.register(fs, true)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		cfg.Hostname = "mail.test"
		return cfg.parse()
	}
	set, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if set.MaxMessageBytes != 50<<20 || set.MinFreeBytes != 256<<20 || set.RemotePort != 25 ||
		set.SendLimits != (delivery.RateLimits{MailboxPerHour: 200, MailboxPerDay: 1000, DomainPerHour: 2000, DomainPerDay: 10000}) ||
		set.IMAPConns != (connCaps{1000, 20}) || set.POP3Conns != (connCaps{1000, 10}) || set.ClientSetup.Host != "mail.test" {
		t.Errorf("defaults: %+v", set)
	}
	t.Setenv("POSTDESK_SEND_LIMITS", "1,2,3,-1")
	set, err = parse(t, "--max-message-size", "10M", "--min-free-disk", "0", "--pop3-max-connections-per-ip", "-1", "--smtp-remote-port", "2525", "--greylist", "5m")
	if err != nil {
		t.Fatal(err)
	}
	if set.MaxMessageBytes != 10<<20 || set.MinFreeBytes != -1 || set.POP3Conns.PerIP != -1 || set.RemotePort != 2525 || set.Greylist != 5*time.Minute ||
		set.SendLimits != (delivery.RateLimits{MailboxPerHour: 1, MailboxPerDay: 2, DomainPerHour: 3, DomainPerDay: -1}) {
		t.Errorf("set: %+v", set)
	}
	for _, args := range [][]string{
		{"--max-message-size", "big"},
		{"--min-free-disk", "-3"},
		{"--send-limits", "1,2,3"},
		{"--send-limits", "1,2,0,4"},
		{"--imap-max-connections", "0"},
		{"--pop3-max-connections-per-ip", "x"},
		{"--smtp-remote-port", "70000"},
		{"--trusted-proxies", "not-an-ip"},
		{"--public-ports", "imap=x"},
		{"--greylist", "soon"},
		{"--greylist", "48h"},
		{"--rspamd-fail", "maybe"},
		{"--rspamd", "127.0.0.1:11333"},
	} {
		_, err := parse(t, args...)
		if err == nil {
			t.Errorf("%v accepted", args)
			continue
		}
		flagName := args[0]
		if args[0] == "--trusted-proxies" {
			flagName = "trusted proxy" // its message names the value
		}
		if !strings.Contains(err.Error(), flagName) {
			t.Errorf("%v: %v names no flag", args, err)
		}
	}
}
