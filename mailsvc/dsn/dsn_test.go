package dsn_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/postdesk/postdesk/mailsvc/dsn"
)

const original = "From: Ann <ann@example.test>\r\nTo: bob@remote.test\r\nSubject: Hello\r\nMessage-ID: <1@example.test>\r\n\r\nBody line\r\nGr\xc3\xbc\xc3\x9fe\r\n"

func TestWriteParse(t *testing.T) {
	when := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		headersOnly bool
		rcpts       []dsn.Recipient
		wantSubject string
	}{
		{
			name: "failed, whole message",
			rcpts: []dsn.Recipient{
				{FinalRecipient: "bob@remote.test", Action: dsn.Failed, Status: "5.1.1", RemoteMTA: "mx.remote.test",
					Diagnostic: "550 5.1.1 no such user", LastAttemptDate: when},
				{FinalRecipient: "carl@remote.test", Action: dsn.Failed, Status: "4.4.7", Diagnostic: "delivery time expired", DiagnosticType: "X-Postdesk"},
			},
			wantSubject: "Undelivered Mail Returned to Sender",
		},
		{
			name:        "delayed, headers only",
			headersOnly: true,
			rcpts:       []dsn.Recipient{{FinalRecipient: "bob@remote.test", Action: dsn.Delayed, Status: "4.2.2", WillRetryUntil: when.Add(96 * time.Hour)}},
			wantSubject: "Delayed Mail (still being retried)",
		},
		{
			name:        "internationalised recipient",
			rcpts:       []dsn.Recipient{{FinalRecipient: "jörg@bücher.test", Action: dsn.Failed, Status: "5.6.7"}},
			wantSubject: "Undelivered Mail Returned to Sender",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n := &dsn.Notice{ReportingMTA: "mail.example.test", From: "MAILER-DAEMON@mail.example.test", To: "ann@example.test",
				Date: when, ArrivalDate: when.Add(-time.Hour), Recipients: tt.rcpts, HeadersOnly: tt.headersOnly}
			if err := dsn.Write(&buf, n, strings.NewReader(original)); err != nil {
				t.Fatalf("write: %v", err)
			}
			raw := buf.String()
			if strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\n") {
				t.Errorf("bare LF in notice")
			}
			mr, err := mail.CreateReader(strings.NewReader(raw))
			if err != nil {
				t.Fatalf("read header: %v", err)
			}
			if s, _ := mr.Header.Subject(); s != tt.wantSubject {
				t.Errorf("subject %q, want %q", s, tt.wantSubject)
			}
			if v := mr.Header.Get("Auto-Submitted"); v != "auto-replied" {
				t.Errorf("Auto-Submitted %q", v)
			}
			rep, err := dsn.Parse(strings.NewReader(raw))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if rep.ReportingMTA != "mail.example.test" || !rep.ArrivalDate.Equal(when.Add(-time.Hour)) {
				t.Errorf("per-message fields %q %v", rep.ReportingMTA, rep.ArrivalDate)
			}
			if len(rep.Recipients) != len(tt.rcpts) {
				t.Fatalf("recipients %+v", rep.Recipients)
			}
			for i, want := range tt.rcpts {
				got := rep.Recipients[i]
				if want.DiagnosticType == "" && want.Diagnostic != "" {
					want.DiagnosticType = "smtp"
				}
				if got.FinalRecipient != want.FinalRecipient || got.Action != want.Action || got.Status != want.Status ||
					got.RemoteMTA != want.RemoteMTA || got.Diagnostic != want.Diagnostic || got.DiagnosticType != want.DiagnosticType ||
					!got.LastAttemptDate.Equal(want.LastAttemptDate) || !got.WillRetryUntil.Equal(want.WillRetryUntil) {
					t.Errorf("recipient %d: got %+v, want %+v", i, got, want)
				}
			}
			if rep.HeadersOnly != tt.headersOnly {
				t.Errorf("headers only %v", rep.HeadersOnly)
			}
			if !strings.Contains(string(rep.Original), "Subject: Hello") {
				t.Errorf("original missing its header: %q", rep.Original)
			}
			if tt.headersOnly == strings.Contains(string(rep.Original), "Body line") {
				t.Errorf("original body presence wrong: %q", rep.Original)
			}
			if !strings.Contains(rep.Text, tt.rcpts[0].FinalRecipient) {
				t.Errorf("text does not name the recipient: %q", rep.Text)
			}
		})
	}
}

// A remote reply can't add fields or lines of its own to the notice.
func TestDiagnosticInjection(t *testing.T) {
	var buf bytes.Buffer
	n := &dsn.Notice{ReportingMTA: "h.test", To: "a@h.test", Recipients: []dsn.Recipient{{
		FinalRecipient: "b@r.test", Action: dsn.Failed, Status: "5.0.0",
		Diagnostic: "550 no\r\nAction: delivered\r\n\r\nFinal-Recipient: rfc822; evil@x.test"}}}
	if err := dsn.Write(&buf, n, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := dsn.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recipients) != 1 || rep.Recipients[0].Action != dsn.Failed {
		t.Fatalf("injected fields parsed: %+v", rep.Recipients)
	}
}

func TestParseNotDSN(t *testing.T) {
	_, err := dsn.Parse(strings.NewReader(original))
	if !errors.Is(err, dsn.ErrNotDSN) {
		t.Fatalf("err %v", err)
	}
}

// The explanation says "host X said" only of a remote server's reply, not
// of this server's own reason for giving up on a host.
func TestExplanationQuotesOnlyReplies(t *testing.T) {
	var buf bytes.Buffer
	n := &dsn.Notice{ReportingMTA: "h.test", To: "a@h.test", Recipients: []dsn.Recipient{
		{FinalRecipient: "b@r.test", Action: dsn.Failed, Status: "5.1.1", RemoteMTA: "mx.r.test", Diagnostic: "550 5.1.1 no such user"},
		{FinalRecipient: "c@r.test", Action: dsn.Failed, Status: "4.4.7", RemoteMTA: "mx.r.test",
			Diagnostic: "connection to mx.r.test timed out", DiagnosticType: "X-Postdesk"},
	}}
	if err := dsn.Write(&buf, n, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := dsn.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<b@r.test>: host mx.r.test said: 550 5.1.1 no such user\r\n", "<c@r.test>: connection to mx.r.test timed out\r\n"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("text lacks %q: %q", want, rep.Text)
		}
	}
}
