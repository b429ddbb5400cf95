package main

import (
	"flag"
	"strings"
	"testing"
)

// TestSMTPConnectionCaps: the connection caps come from flags and
// environment with their defaults; -1 means no cap, anything else not a
// positive number is refused.
func TestSMTPConnectionCaps(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		args    []string
		want    [4]int // MX total, MX per address, submission total, submission per address
		wantErr bool
	}{
		{want: [4]int{1000, 20, 500, 10}},
		{args: []string{"--smtp-max-connections", "50", "--smtp-max-connections-per-ip", "-1"}, want: [4]int{50, -1, 500, 10}},
		{env: map[string]string{"POSTDESK_SUBMISSION_MAX_CONNECTIONS_PER_IP": "3"}, want: [4]int{1000, 20, 500, 3}},
		{args: []string{"--submission-max-connections", "40"}, want: [4]int{1000, 20, 40, 10}},
		{env: map[string]string{"POSTDESK_SUBMISSION_MAX_CONNECTIONS": "-1"}, want: [4]int{1000, 20, -1, 10}},
		{args: []string{"--submission-max-connections", "0"}, wantErr: true},
		{args: []string{"--smtp-max-connections", "0"}, wantErr: true},
		{args: []string{"--smtp-max-connections-per-ip", "many"}, wantErr: true},
		{args: []string{"--submission-max-connections-per-ip", "-2"}, wantErr: true},
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
			set, err := cfg.parse()
			switch {
			case tc.wantErr && err == nil:
				t.Fatal("accepted")
			case tc.wantErr:
				return
			case err != nil:
				t.Fatal(err)
			}
			c := smtpConfig(&app{cfg: cfg, set: set})
			if got := [4]int{c.MaxConnections, c.MaxConnectionsPerIP, c.MaxSubmissionConnections, c.MaxSubmissionConnectionsPerIP}; got != tc.want {
				t.Errorf("%v, want %v", got, tc.want)
			}
		})
	}
}
