package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/mailsvc/logctx"
	"github.com/postdesk/postdesk/panel/clientsetup"
	"github.com/postdesk/postdesk/tenants"
)

// Config is everything postdesk reads from flags and the environment. Each
// field has a flag and a POSTDESK_ variable; a flag wins over the variable,
// which wins over the default. Fields that are not plain text are parsed
// once, by parse, into the settings serve's constructors are handed.
type Config struct {
	DataDir     string // --data, POSTDESK_DATA: data folder (SQLite file, message blobs, TLS files); default ./data
	DatabaseURL string // --database, POSTDESK_DATABASE_URL: postgres://... ; empty: embedded SQLite
	LogLevel    string // --log-level, POSTDESK_LOG_LEVEL: debug, info, warn, error; default info

	Hostname string // --hostname, POSTDESK_HOSTNAME: name in greetings and Received; default the OS host name
	// What mail clients that set themselves up are told (autoconfig,
	// autodiscover): never the listen addresses.
	PublicHost  string // --public-host, POSTDESK_PUBLIC_HOST: the mail servers' host name for clients; default --hostname
	PublicPorts string // --public-ports, POSTDESK_PUBLIC_PORTS: PROTOCOL=PORT list of what clients are offered; default the standard ports

	HTTPAddr        string // --http, POSTDESK_HTTP_ADDR: panel, default 127.0.0.1:8080
	SMTPAddr        string // --smtp, POSTDESK_SMTP_ADDR: MX, default 127.0.0.1:2525
	SubmissionAddr  string // --submission, POSTDESK_SUBMISSION_ADDR: default 127.0.0.1:2587
	SubmissionsAddr string // --submissions, POSTDESK_SUBMISSIONS_ADDR: implicit TLS, default 127.0.0.1:2465
	IMAPAddr        string // --imap, POSTDESK_IMAP_ADDR: default 127.0.0.1:1143
	IMAPSAddr       string // --imaps, POSTDESK_IMAPS_ADDR: default 127.0.0.1:1993
	POP3Addr        string // --pop3, POSTDESK_POP3_ADDR: default 127.0.0.1:1110
	POP3SAddr       string // --pop3s, POSTDESK_POP3S_ADDR: default 127.0.0.1:1995
	LDAPAddr        string // --ldap, POSTDESK_LDAP_ADDR: read-only LDAP with StartTLS, default 127.0.0.1:1389
	LDAPSAddr       string // --ldaps, POSTDESK_LDAPS_ADDR: LDAP over implicit TLS, default 127.0.0.1:1636
	ManageSieveAddr string // --managesieve, POSTDESK_MANAGESIEVE_ADDR: ManageSieve with STARTTLS, default 127.0.0.1:4190

	TLSCert string // --tls-cert, POSTDESK_TLS_CERT: PEM certificate chain; empty: a self-signed one in the data folder
	TLSKey  string // --tls-key, POSTDESK_TLS_KEY: PEM private key

	PublicURL      string // --public-url, POSTDESK_PUBLIC_URL: the panel's address as users reach it; https marks cookies Secure
	TrustedProxies string // --trusted-proxies, POSTDESK_TRUSTED_PROXIES: comma-separated IPs or CIDRs whose X-Forwarded-For/-Proto are believed

	AllowPlaintextAuth bool // --allow-plaintext-auth, POSTDESK_ALLOW_PLAINTEXT_AUTH: logins without TLS, for tests only

	MaxMessageSize string // --max-message-size, POSTDESK_MAX_MESSAGE_SIZE: SMTP SIZE limit; default 50M
	MinFreeDisk    string // --min-free-disk, POSTDESK_MIN_FREE_DISK: MAIL gets 452 4.3.1 below this free space; default 256M
	SendLimits     string // --send-limits, POSTDESK_SEND_LIMITS: submission and remote-forward recipients per mailbox hour,day and domain hour,day; default 200,1000,2000,10000

	// Open SMTP connections (-1: no cap); past one, 421 4.7.0 before the greeting.
	SMTPMaxConns            string // --smtp-max-connections, POSTDESK_SMTP_MAX_CONNECTIONS: the MX; default 1000
	SMTPMaxConnsPerIP       string // --smtp-max-connections-per-ip, POSTDESK_SMTP_MAX_CONNECTIONS_PER_IP: MX, per client address; default 20
	SubmissionMaxConns      string // --submission-max-connections, POSTDESK_SUBMISSION_MAX_CONNECTIONS: 587 and 465 together; default 500
	SubmissionMaxConnsPerIP string // --submission-max-connections-per-ip, POSTDESK_SUBMISSION_MAX_CONNECTIONS_PER_IP: 587 and 465 together, per client address; default 10

	// Open IMAP and POP3 connections (-1: no cap); past one, BYE or -ERR
	// before the greeting.
	IMAPMaxConns      string // --imap-max-connections, POSTDESK_IMAP_MAX_CONNECTIONS: IMAP and IMAPS together; default 1000
	IMAPMaxConnsPerIP string // --imap-max-connections-per-ip, POSTDESK_IMAP_MAX_CONNECTIONS_PER_IP: per client address; default 20
	POP3MaxConns      string // --pop3-max-connections, POSTDESK_POP3_MAX_CONNECTIONS: POP3 and POP3S together; default 1000
	POP3MaxConnsPerIP string // --pop3-max-connections-per-ip, POSTDESK_POP3_MAX_CONNECTIONS_PER_IP: per client address; default 10

	DNSServer      string // --dns-server, POSTDESK_DNS_SERVER: the resolver of every lookup ("IP" or "IP:port"): SPF, DKIM and DMARC, and outbound MX unless the Delivery Options name one; empty: /etc/resolv.conf
	Greylist       string // --greylist, POSTDESK_GREYLIST: greylisting delay at the MX; empty or 0: off
	Rspamd         string // --rspamd, POSTDESK_RSPAMD: URL of rspamd's normal worker; empty: no spam scanning
	RspamdFail     string // --rspamd-fail, POSTDESK_RSPAMD_FAIL: "open" (take unscanned, default) or "closed" (451)
	SMTPRemotePort string // --smtp-remote-port, POSTDESK_SMTP_REMOTE_PORT: port of remote MX hosts; default 25 (tests point it elsewhere)

	// AdminPassword (POSTDESK_ADMIN_PASSWORD only, never a flag, so it stays
	// out of process listings) is the first administrator's password.
	AdminPassword string
}

type envFlag struct {
	name, env, def, usage string
	dst                   *string
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
		{"public-host", "POSTDESK_PUBLIC_HOST", "", "host name mail clients are told to use by autoconfig and autodiscover (empty: --hostname)", &c.PublicHost},
		{"public-ports", "POSTDESK_PUBLIC_PORTS", clientsetup.DefaultPorts, "ports mail clients are told to use, PROTOCOL=PORT,... (imaps, imap, submissions, submission, pop3s, pop3)", &c.PublicPorts},
		{"http", "POSTDESK_HTTP_ADDR", "127.0.0.1:8080", "panel listen address (empty: off)", &c.HTTPAddr},
		{"smtp", "POSTDESK_SMTP_ADDR", "127.0.0.1:2525", "SMTP (MX) listen address (empty: off)", &c.SMTPAddr},
		{"submission", "POSTDESK_SUBMISSION_ADDR", "127.0.0.1:2587", "submission listen address (empty: off)", &c.SubmissionAddr},
		{"submissions", "POSTDESK_SUBMISSIONS_ADDR", "127.0.0.1:2465", "submission over implicit TLS (empty: off)", &c.SubmissionsAddr},
		{"imap", "POSTDESK_IMAP_ADDR", "127.0.0.1:1143", "IMAP listen address (empty: off)", &c.IMAPAddr},
		{"imaps", "POSTDESK_IMAPS_ADDR", "127.0.0.1:1993", "IMAP over implicit TLS (empty: off)", &c.IMAPSAddr},
		{"pop3", "POSTDESK_POP3_ADDR", "127.0.0.1:1110", "POP3 listen address (empty: off)", &c.POP3Addr},
		{"pop3s", "POSTDESK_POP3S_ADDR", "127.0.0.1:1995", "POP3 over implicit TLS (empty: off)", &c.POP3SAddr},
		{"ldap", "POSTDESK_LDAP_ADDR", "127.0.0.1:1389", "read-only LDAP directory with StartTLS (empty: off)", &c.LDAPAddr},
		{"ldaps", "POSTDESK_LDAPS_ADDR", "127.0.0.1:1636", "read-only LDAP directory over implicit TLS (empty: off)", &c.LDAPSAddr},
		{"managesieve", "POSTDESK_MANAGESIEVE_ADDR", "127.0.0.1:4190", "ManageSieve (Sieve filter scripts) with STARTTLS (empty: off)", &c.ManageSieveAddr},
		{"tls-cert", "POSTDESK_TLS_CERT", "", "TLS certificate (PEM); empty: self-signed", &c.TLSCert},
		{"tls-key", "POSTDESK_TLS_KEY", "", "TLS key (PEM)", &c.TLSKey},
		{"max-message-size", "POSTDESK_MAX_MESSAGE_SIZE", "50M", "largest message SMTP accepts", &c.MaxMessageSize},
		{"min-free-disk", "POSTDESK_MIN_FREE_DISK", "256M", "SMTP refuses mail (4xx) when less disk space is free", &c.MinFreeDisk},
		{"send-limits", "POSTDESK_SEND_LIMITS", "200,1000,2000,10000", "submission and remote-forward recipients per mailbox per hour,day and per domain per hour,day (-1: none)", &c.SendLimits},
		{"greylist", "POSTDESK_GREYLIST", "", "greylist new senders at the MX for this long, e.g. 5m (empty: off)", &c.Greylist},
		{"rspamd", "POSTDESK_RSPAMD", "", "scan the MX's mail with the rspamd at this URL, e.g. http://127.0.0.1:11333 (empty: off)", &c.Rspamd},
		{"rspamd-fail", "POSTDESK_RSPAMD_FAIL", "open", "without a verdict from rspamd: open (take the mail unscanned) or closed (451)", &c.RspamdFail},
		{"smtp-max-connections", "POSTDESK_SMTP_MAX_CONNECTIONS", "1000", "open MX connections (-1: no cap)", &c.SMTPMaxConns},
		{"smtp-max-connections-per-ip", "POSTDESK_SMTP_MAX_CONNECTIONS_PER_IP", "20", "open MX connections from one client address (-1: no cap)", &c.SMTPMaxConnsPerIP},
		{"submission-max-connections", "POSTDESK_SUBMISSION_MAX_CONNECTIONS", "500", "open submission connections, 587 and 465 together (-1: no cap)", &c.SubmissionMaxConns},
		{"submission-max-connections-per-ip", "POSTDESK_SUBMISSION_MAX_CONNECTIONS_PER_IP", "10", "open submission connections (587 and 465) from one client address (-1: no cap)", &c.SubmissionMaxConnsPerIP},
		{"imap-max-connections", "POSTDESK_IMAP_MAX_CONNECTIONS", "1000", "open IMAP connections, IMAP and IMAPS together (-1: no cap)", &c.IMAPMaxConns},
		{"imap-max-connections-per-ip", "POSTDESK_IMAP_MAX_CONNECTIONS_PER_IP", "20", "open IMAP connections (IMAP and IMAPS) from one client address (-1: no cap)", &c.IMAPMaxConnsPerIP},
		{"pop3-max-connections", "POSTDESK_POP3_MAX_CONNECTIONS", "1000", "open POP3 connections, POP3 and POP3S together (-1: no cap)", &c.POP3MaxConns},
		{"pop3-max-connections-per-ip", "POSTDESK_POP3_MAX_CONNECTIONS_PER_IP", "10", "open POP3 connections (POP3 and POP3S) from one client address (-1: no cap)", &c.POP3MaxConnsPerIP},
		{"public-url", "POSTDESK_PUBLIC_URL", "", "the panel's public URL, e.g. https://mail.example.com (https: Secure cookies)", &c.PublicURL},
		{"trusted-proxies", "POSTDESK_TRUSTED_PROXIES", "", "reverse proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDRs, comma-separated)", &c.TrustedProxies},
		{"dns-server", "POSTDESK_DNS_SERVER", "", "DNS server for every lookup (SPF, DKIM, DMARC, outbound MX), IP[:port] (empty: /etc/resolv.conf; the Delivery Options may name another for MX)", &c.DNSServer},
		{"smtp-remote-port", "POSTDESK_SMTP_REMOTE_PORT", "25", "port of remote MX hosts (for tests)", &c.SMTPRemotePort},
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

// settings are the Config's values that need parsing, parsed once when
// serve starts (Config.parse): every constructor gets its typed values
// from here, and nothing parses those flags again.
type settings struct {
	MaxMessageBytes int64 // --max-message-size: SMTP's SIZE, webmail's and IMAP APPEND's bound
	MinFreeBytes    int64 // --min-free-disk; -1: no check
	// SendLimits (--send-limits) go to delivery alone, the one owner of
	// the send limits (submissions over SMTP and webmail, remote
	// forwards, responders, SRS bounces).
	SendLimits delivery.RateLimits
	// Connection caps: -1 is no cap.
	SMTPConns, SubmissionConns, IMAPConns, POP3Conns connCaps
	Greylist                                         time.Duration  // --greylist; 0: off
	RspamdFailClosed                                 bool           // --rspamd-fail closed
	RemotePort                                       int            // --smtp-remote-port
	TrustedProxies                                   []netip.Prefix // --trusted-proxies
	ClientSetup                                      *clientsetup.Servers
}

// connCaps are a server's connection caps: open connections, and from one
// client address.
type connCaps struct{ Total, PerIP int }

// parse parses the Config's values into settings; an error names the flag
// (or variable) at fault. Call it after the host name default is set.
func (c *Config) parse() (*settings, error) {
	s := &settings{}
	var err error
	if s.MaxMessageBytes, err = tenants.ParseSize(c.MaxMessageSize); err != nil {
		return nil, fmt.Errorf("--max-message-size: %w", err)
	}
	if s.MinFreeBytes, err = tenants.ParseSize(c.MinFreeDisk); err != nil {
		return nil, fmt.Errorf("--min-free-disk: %w", err)
	}
	if s.MinFreeBytes == 0 {
		s.MinFreeBytes = -1 // 0 turns the check off, which smtpd.Config spells -1
	}
	if s.SendLimits, err = parseSendLimits(c.SendLimits); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		flag, v string
		dst     *int
	}{
		{"--smtp-max-connections", c.SMTPMaxConns, &s.SMTPConns.Total},
		{"--smtp-max-connections-per-ip", c.SMTPMaxConnsPerIP, &s.SMTPConns.PerIP},
		{"--submission-max-connections", c.SubmissionMaxConns, &s.SubmissionConns.Total},
		{"--submission-max-connections-per-ip", c.SubmissionMaxConnsPerIP, &s.SubmissionConns.PerIP},
		{"--imap-max-connections", c.IMAPMaxConns, &s.IMAPConns.Total},
		{"--imap-max-connections-per-ip", c.IMAPMaxConnsPerIP, &s.IMAPConns.PerIP},
		{"--pop3-max-connections", c.POP3MaxConns, &s.POP3Conns.Total},
		{"--pop3-max-connections-per-ip", c.POP3MaxConnsPerIP, &s.POP3Conns.PerIP},
	} {
		if *f.dst, err = connCap(f.flag, f.v); err != nil {
			return nil, err
		}
	}
	if c.Greylist != "" {
		if s.Greylist, err = time.ParseDuration(c.Greylist); err != nil || s.Greylist < 0 || s.Greylist > 12*time.Hour {
			return nil, fmt.Errorf("--greylist %q: want a duration up to 12h, such as 5m", c.Greylist)
		}
	}
	switch c.RspamdFail {
	case "open", "":
	case "closed":
		s.RspamdFailClosed = true
	default:
		return nil, fmt.Errorf("--rspamd-fail %q: want open or closed", c.RspamdFail)
	}
	if c.Rspamd != "" && !strings.HasPrefix(c.Rspamd, "http://") && !strings.HasPrefix(c.Rspamd, "https://") {
		return nil, fmt.Errorf("--rspamd %q: want an http:// or https:// URL", c.Rspamd)
	}
	s.RemotePort = 25
	if c.SMTPRemotePort != "" {
		s.RemotePort, err = strconv.Atoi(c.SMTPRemotePort)
	}
	if err != nil || s.RemotePort < 1 || s.RemotePort > 65535 {
		return nil, fmt.Errorf("--smtp-remote-port %q: want a port number", c.SMTPRemotePort)
	}
	if s.TrustedProxies, err = c.trustedProxies(); err != nil {
		return nil, err
	}
	if s.ClientSetup, err = c.clientSetup(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseSendLimits reads --send-limits: four numbers, each positive or -1.
func parseSendLimits(v string) (delivery.RateLimits, error) {
	var l delivery.RateLimits
	f := strings.Split(v, ",")
	if len(f) != 4 {
		return l, fmt.Errorf("--send-limits %q: give four numbers: mailbox per hour, per day, domain per hour, per day", v)
	}
	dst := []*int64{&l.MailboxPerHour, &l.MailboxPerDay, &l.DomainPerHour, &l.DomainPerDay}
	for i, x := range f {
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil || n == 0 || n < -1 {
			return l, fmt.Errorf("--send-limits %q: %q is not a positive number or -1", v, x)
		}
		*dst[i] = n
	}
	return l, nil
}

// connCap reads a connection cap flag: a positive number, or -1 for no
// cap.
func connCap(flag, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n == 0 || n < -1 {
		return 0, fmt.Errorf("%s %q: give a positive number, or -1 for no cap", flag, v)
	}
	return n, nil
}

func (c *Config) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	// Connections put their id and address in the context; code they
	// call logs them with every ...Context line.
	return slog.New(logctx.NewHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))), nil
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

// trustedProxies parses --trusted-proxies: IP addresses or CIDR prefixes,
// separated by commas.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: give an IP address or a CIDR prefix such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return out, nil
}

// clientSetup is what autoconfig and autodiscover tell mail clients.
func (c *Config) clientSetup() (*clientsetup.Servers, error) {
	s := &clientsetup.Servers{Host: c.PublicHost}
	if s.Host == "" {
		s.Host = c.Hostname
	}
	if err := s.ParsePorts(c.PublicPorts); err != nil {
		return nil, fmt.Errorf("--public-ports: %w", err)
	}
	return s, nil
}
