package delivery_test

import (
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailsvc/delivery"
	"github.com/postdesk/postdesk/tenants/address"
)

// TestReceived: the one Received field of SMTP and webmail (RFC 5321 4.4),
// in both shapes, with what a client chose kept inside its clause.
func TestReceived(t *testing.T) {
	date := time.Date(2026, 12, 7, 21, 0, 5, 0, time.FixedZone("", 3600))
	ann, err := address.ParseAddress("ann@example.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		t    delivery.Trace
		want string
	}{
		{"smtp", delivery.Trace{HELO: "client.test", Remote: "192.0.2.7", By: "mx.example.test", Product: "Postdesk", With: "ESMTP", ID: "1.1.x", For: ann, Date: date},
			"Received: from client.test ([192.0.2.7])\r\n\tby mx.example.test (Postdesk) with ESMTP id 1.1.x\r\n\tfor <ann@example.test>; Mon, 07 Dec 2026 21:00:05 +0100\r\n"},
		{"smtp tls auth, several recipients", delivery.Trace{HELO: "[192.0.2.7]", Remote: "2001:db8::7", TLS: "using TLS 1.3 with cipher TLS_AES_128_GCM_SHA256",
			By: "mx.example.test", Product: "Postdesk", With: "ESMTPSA", ID: "2.1.y", Date: date},
			"Received: from [192.0.2.7] ([IPv6:2001:db8::7])\r\n\t(using TLS 1.3 with cipher TLS_AES_128_GCM_SHA256)\r\n\tby mx.example.test (Postdesk) with ESMTPSA id 2.1.y; Mon, 07 Dec 2026 21:00:05 +0100\r\n"},
		{"webmail", delivery.Trace{Remote: "192.0.2.20", By: "mail.example.test", Product: "Postdesk webmail", With: "HTTP", ID: "0a0b0c0d0e0f", For: ann, Date: date},
			"Received: from [192.0.2.20] ([192.0.2.20])\r\n\tby mail.example.test (Postdesk webmail) with HTTP id 0a0b0c0d0e0f\r\n\tfor <ann@example.test>; Mon, 07 Dec 2026 21:00:05 +0100\r\n"},
		{"hostile HELO and address", delivery.Trace{HELO: "x\r\nBcc: all; (y)", Remote: "::ffff:192.0.2.9", By: "mx.example.test", Product: "Postdesk", With: "ESMTP", ID: "3", Date: date},
			"Received: from x??Bcc:?all???y? ([192.0.2.9])\r\n\tby mx.example.test (Postdesk) with ESMTP id 3; Mon, 07 Dec 2026 21:00:05 +0100\r\n"},
		{"not an address", delivery.Trace{Remote: "a]\r\nb", By: "mx.example.test", Product: "Postdesk webmail", With: "HTTP", ID: "4", Date: date},
			"Received: from [a???b] ([a???b])\r\n\tby mx.example.test (Postdesk webmail) with HTTP id 4; Mon, 07 Dec 2026 21:00:05 +0100\r\n"},
	} {
		if got := delivery.Received(c.t); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}
