package main

import (
	"flag"
	"strings"
	"testing"
)

// TestIMAPPOP3ConnectionCaps: the IMAP and POP3 connection caps come from
// flags and environment with their defaults, read as the SMTP ones are.
func TestIMAPPOP3ConnectionCaps(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		args    []string
		want    [4]int // IMAP total, IMAP per address, POP3 total, POP3 per address
		wantErr bool
	}{
		{want: [4]int{1000, 20, 1000, 10}},
		{args: []string{"--imap-max-connections", "50", "--pop3-max-connections-per-ip", "-1"}, want: [4]int{50, 20, 1000, -1}},
		{env: map[string]string{"POSTDESK_IMAP_MAX_CONNECTIONS_PER_IP": "30", "POSTDESK_POP3_MAX_CONNECTIONS": "200"}, want: [4]int{1000, 30, 200, 10}},
		{args: []string{"--imap-max-connections-per-ip", "0"}, wantErr: true},
		{args: []string{"--pop3-max-connections", "lots"}, wantErr: true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var cfg Config
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			cfg.register(fs, true)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var got [4]int
			var err error
			for i, f := range []struct{ flag, v string }{
				{"--imap-max-connections", cfg.IMAPMaxConns},
				{"--imap-max-connections-per-ip", cfg.IMAPMaxConnsPerIP},
				{"--pop3-max-connections", cfg.POP3MaxConns},
				{"--pop3-max-connections-per-ip", cfg.POP3MaxConnsPerIP},
			} {
				var e error
				if got[i], e = connCap(f.flag, f.v); e != nil {
					err = e
				}
			}
			switch {
			case tc.wantErr && err == nil:
				t.Fatal("accepted")
			case tc.wantErr:
				return
			case err != nil:
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%v, want %v", got, tc.want)
			}
		})
	}
}
