package webmail

import (
	"bufio"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// TestSenderCheck: what the message view says of a message's author comes
// from our Authentication-Results above the first Received only; one the
// sender wrote below it proves nothing.
func TestSenderCheck(t *testing.T) {
	const rcv = "Received: from x ([192.0.2.1])\r\n\tby mx.test (Postdesk) with ESMTP id 1; Mon, 07 Dec 2026 10:00:00 +0000\r\n"
	for _, tc := range []struct {
		name, head string
		want       string
		verified   bool
	}{
		{"dmarc pass", "Authentication-Results: mx.test;\r\n\tdkim=pass header.d=ok.test header.s=s header.a=ed25519-sha256 header.b=abcdefgh;\r\n\tspf=pass smtp.mailfrom=a@ok.test;\r\n\tdmarc=pass header.from=ok.test\r\n" + rcv,
			"Sender verified: the message comes from ok.test", true},
		{"dmarc fail", "Authentication-Results: mx.test;\r\n\tdkim=none;\r\n\tspf=fail smtp.mailfrom=a@bad.test;\r\n\tdmarc=fail (p=quarantine) header.from=bad.test\r\n" + rcv,
			"fails bad.test's DMARC check", false},
		{"signed, no policy", "Authentication-Results: mx.test; dkim=pass header.d=list.test; spf=none smtp.mailfrom=a@x.test; dmarc=none header.from=x.test\r\n" + rcv,
			"Signed by list.test (DKIM)", false},
		{"nothing", "Authentication-Results: mx.test; dkim=none; spf=none smtp.mailfrom=a@x.test; dmarc=none header.from=x.test\r\n" + rcv,
			"no DMARC policy and the message carries no valid signature", false},
		{"temperror", "Authentication-Results: mx.test; dkim=none; spf=temperror smtp.mailfrom=a@x.test; dmarc=temperror header.from=x.test\r\n" + rcv,
			"could not be checked (DMARC temperror)", false},
		{"forged below Received", rcv + "Authentication-Results: mx.test; dkim=pass header.d=ok.test; spf=pass smtp.mailfrom=a@ok.test; dmarc=pass header.from=ok.test\r\n", "", false},
		{"sent from here", "", "", false},
	} {
		th, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(tc.head + "From: <a@x.test>\r\nSubject: s\r\n\r\n")))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, verified := senderCheck(mail.Header{Header: message.Header{Header: th}})
		if !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") || verified != tc.verified {
			t.Errorf("%s: %q (verified %t), want %q (%t)", tc.name, got, verified, tc.want, tc.verified)
		}
	}
}
