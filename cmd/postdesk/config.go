package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
)

// Config is everything postdesk reads from flags and the environment. Each
// field has a flag and a POSTDESK_ variable; a flag wins over the variable,
// which wins over the default.
type Config struct {
	DataDir     string // --data, POSTDESK_DATA: data folder (SQLite file, message blobs, TLS files); default ./data
	DatabaseURL string // --database, POSTDESK_DATABASE_URL: postgres://... ; empty: embedded SQLite
	LogLevel    string // --log-level, POSTDESK_LOG_LEVEL: debug, info, warn, error; default info

	Hostname string // --hostname, POSTDESK_HOSTNAME: name in greetings and Received; default the OS host name

	HTTPAddr        string // --http, POSTDESK_HTTP_ADDR: panel, default 127.0.0.1:8080
	SMTPAddr        string // --smtp, POSTDESK_SMTP_ADDR: MX, default 127.0.0.1:2525
	SubmissionAddr  string // --submission, POSTDESK_SUBMISSION_ADDR: default 127.0.0.1:2587
	SubmissionsAddr string // --submissions, POSTDESK_SUBMISSIONS_ADDR: implicit TLS, default 127.0.0.1:2465
	IMAPAddr        string // --imap, POSTDESK_IMAP_ADDR: default 127.0.0.1:1143
	IMAPSAddr       string // --imaps, POSTDESK_IMAPS_ADDR: default 127.0.0.1:1993
	POP3Addr        string // --pop3, POSTDESK_POP3_ADDR: default 127.0.0.1:1110
	POP3SAddr       string // --pop3s, POSTDESK_POP3S_ADDR: default 127.0.0.1:1995

	TLSCert string // --tls-cert, POSTDESK_TLS_CERT: PEM certificate chain; empty: a self-signed one in the data folder
	TLSKey  string // --tls-key, POSTDESK_TLS_KEY: PEM private key

	AllowPlaintextAuth bool // --allow-plaintext-auth, POSTDESK_ALLOW_PLAINTEXT_AUTH: logins without TLS, for tests only

	// AdminPassword (POSTDESK_ADMIN_PASSWORD only, never a flag, so it stays
	// out of process listings) is the first administrator's password.
	AdminPassword string
}

type envFlag struct {
	name, env, def, usage string
	dst               *string
}

// register adds the config's flags to fs, with defaults from the
// environment. Flags that only serve uses are added when serve is true.
func (c *Config) register(fs *flag.FlagSet, serve bool) {
	common := []envFlag{
		{"data", "POSTDESK_DATA", "./data", "data folder", &c.DataDir},
		{"database", "POSTDESK_DATABASE_URL", "", "PostgreSQL URL (postgres://...); empty: SQLite in the data folder", &c.DatabaseURL},
		{"log-level", "POSTDESK_LOG_LEVEL", "info", "debug, info, warn or error", &c.LogLevel},
	}
	serveOnly := []envFlag{
		{"hostname", "POSTDESK_HOSTNAME", "", "host name for greetings and Received headers", &c.Hostname},
		{"http", "POSTDESK_HTTP_ADDR", "127.0.0.1:8080", "panel listen address (empty: off)", &c.HTTPAddr},
		{"smtp", "POSTDESK_SMTP_ADDR", "127.0.0.1:2525", "SMTP (MX) listen address (empty: off)", &c.SMTPAddr},
		{"submission", "POSTDESK_SUBMISSION_ADDR", "127.0.0.1:2587", "submission listen address (empty: off)", &c.SubmissionAddr},
		{"submissions", "POSTDESK_SUBMISSIONS_ADDR", "127.0.0.1:2465", "submission over implicit TLS (empty: off)", &c.SubmissionsAddr},
		{"imap", "POSTDESK_IMAP_ADDR", "127.0.0.1:1143", "IMAP listen address (empty: off)", &c.IMAPAddr},
		{"imaps", "POSTDESK_IMAPS_ADDR", "127.0.0.1:1993", "IMAP over implicit TLS (empty: off)", &c.IMAPSAddr},
		{"pop3", "POSTDESK_POP3_ADDR", "127.0.0.1:1110", "POP3 listen address (empty: off)", &c.POP3Addr},
		{"pop3s", "POSTDESK_POP3S_ADDR", "127.0.0.1:1995", "POP3 over implicit TLS (empty: off)", &c.POP3SAddr},
		{"tls-cert", "POSTDESK_TLS_CERT", "", "TLS certificate (PEM); empty: self-signed", &c.TLSCert},
		{"tls-key", "POSTDESK_TLS_KEY", "", "TLS key (PEM)", &c.TLSKey},
	}
	list := common
	if serve {
		list = append(list, serveOnly...)
	}
	for _, f := range list {
		def := f.def
		if v, ok := os.LookupEnv(f.env); ok {
			def = v
		}
		fs.StringVar(f.dst, f.name, def, f.usage+" ($"+f.env+")")
	}
	if serve {
		def, _ := strconv.ParseBool(os.Getenv("POSTDESK_ALLOW_PLAINTEXT_AUTH"))
		fs.BoolVar(&c.AllowPlaintextAuth, "allow-plaintext-auth", def, "allow logins without TLS, for tests and development ($POSTDESK_ALLOW_PLAINTEXT_AUTH)")
	}
	c.AdminPassword = os.Getenv("POSTDESK_ADMIN_PASSWORD")
}

func (c *Config) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// parseInterspersed parses flags that may come before or after positional
// arguments (the flag package stops at the first positional one) and
// returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			// fs.Parse consumed the "--" if it came first; one left here
			// follows a positional argument.
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
		if len(args) > 0 && args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
	}
}
