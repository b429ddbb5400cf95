package delivery

import (
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/tenants/address"
)

// TestOriginators: the author and sender fields a submitted message may
// carry (RFC 5322 3.6, 3.6.6), for a login that may send as john and
// sales.
func TestOriginators(t *testing.T) {
	own := SendAs{}
	for _, a := range []string{"john@example.test", "sales@example.test"} {
		p, err := address.ParseAddress(a)
		if err != nil {
			t.Fatal(err)
		}
		own[p] = true
	}
	received := "Received: from [192.0.2.1] by mx.test; Mon, 7 Dec 2026 20:00:00 +0000\r\n"
	for _, tc := range []struct {
		name, header string
		err          error
		field        string
	}{
		{"own From", "From: john@example.test\r\n", nil, ""},
		{"two own From addresses", "From: john@example.test, Sales <sales@example.test>\r\n", nil, ""},
		{"From of another", "From: ceo@b.test\r\n", ErrNotYourSender, "From"},
		{"one own, one not", "From: john@example.test, ceo@b.test\r\n", ErrNotYourSender, "From"},
		{"no From", "Subject: x\r\n", ErrNoFrom, "From"},
		{"empty From", "From: \r\n", ErrNoFrom, "From"},
		{"second From", "From: john@example.test\r\nFrom: ceo@b.test\r\n", ErrDuplicateField, "From"},
		{"second own From", "From: john@example.test\r\nfrom: john@example.test\r\n", ErrDuplicateField, "From"},
		{"own Sender, From of another", "From: ceo@b.test, john@example.test\r\nSender: john@example.test\r\n", ErrNotYourSender, "From"},
		{"Sender", "From: john@example.test\r\nSender: sales@example.test\r\n", nil, ""},
		{"Sender of another", "From: john@example.test\r\nSender: ceo@b.test\r\n", ErrNotYourSender, "Sender"},
		{"Sender unparsed", "From: john@example.test\r\nSender: <<<\r\n", ErrNotYourSender, "Sender"},
		{"empty Sender", "From: john@example.test\r\nSender:\r\n", ErrNotYourSender, "Sender"},
		{"second Sender", "From: john@example.test\r\nSender: john@example.test\r\nSENDER: john@example.test\r\n", ErrDuplicateField, "Sender"},
		{"own resent block", "Resent-From: john@example.test\r\nResent-Sender: sales@example.test\r\nResent-To: x@remote.test\r\n" +
			received + "From: john@example.test\r\n", nil, ""},
		// From stays the login's in a resent message: mail programs show
		// From first, so a resent block must not let it be anyone's.
		{"resent block and From of another", "Resent-From: john@example.test\r\n" + received + "From: ceo@b.test\r\n", ErrNotYourSender, "From"},
		{"Resent-From of another", "Resent-From: ceo@b.test\r\nResent-To: x@remote.test\r\nFrom: john@example.test\r\n", ErrNotYourSender, "Resent-From"},
		{"Resent-Sender of another", "Resent-From: john@example.test\r\nResent-Sender: ceo@b.test\r\nFrom: john@example.test\r\n", ErrNotYourSender, "Resent-Sender"},
		{"older block not checked", "Resent-From: john@example.test\r\n" + received +
			"Resent-From: ceo@b.test\r\nResent-Sender: cfo@b.test\r\n" + received + "From: john@example.test\r\n", nil, ""},
		{"second Resent-From in the block", "Resent-From: john@example.test\r\nResent-From: ceo@b.test\r\nFrom: john@example.test\r\n", ErrDuplicateField, "Resent-From"},
		{"second Resent-From behind another field", "Resent-From: john@example.test\r\nX-Note: y\r\nResent-From: ceo@b.test\r\n" +
			received + "From: john@example.test\r\n", ErrDuplicateField, "Resent-From"},
		{"block below our Received", received + "Resent-From: ceo@b.test\r\nFrom: john@example.test\r\n", ErrNotYourSender, "Resent-From"},
		// A second From behind a line that ends the parse, or past the
		// bound of what is read, is not seen: such a header is refused.
		{"From behind a damaged line", "From: john@example.test\r\nnot a field\r\nFrom: ceo@b.test\r\n", ErrHeaderUnread, ""},
		{"From past 1 MiB", "From: john@example.test\r\nX-Pad: " + strings.Repeat("x", 1<<20) + "\r\nFrom: ceo@b.test\r\n", ErrHeaderUnread, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := received + tc.header + "Subject: test\r\n\r\nbody\r\n"
			h := ParseHeader(strings.NewReader(msg), int64(len(msg)))
			err := own.Originators(h)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			var fe *FieldError
			if tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Errorf("got %v, want a FieldError for %s", err, tc.field)
			}
		})
	}
}

// TestHeaderComplete: a header is complete when read to its empty line or
// to the end of a message that is all header, even when the body is
// larger than the bound of what is read.
func TestHeaderComplete(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		complete  bool
	}{
		{"header and body", "From: a@b.test\r\n\r\nbody\r\n", true},
		{"header only", "From: a@b.test\r\nSubject: x\r\n", true},
		{"header only, no last CRLF", "From: a@b.test\r\nSubject: x", true},
		{"large body", "From: a@b.test\r\n\r\n" + strings.Repeat("body line\r\n", 200000), true},
		{"header ending near the bound", "X-Pad: " + strings.Repeat("x", 1<<20-200) + "\r\n\r\n" + strings.Repeat("body line\r\n", 1000), true},
		{"damaged line", "From: a@b.test\r\nnot a field\r\n\r\nbody\r\n", false},
		{"header over the bound", "X-Pad: " + strings.Repeat("x", 1<<20) + "\r\n\r\nbody\r\n", false},
	} {
		h := ParseHeader(strings.NewReader(tc.msg), int64(len(tc.msg)))
		if h.Complete != tc.complete {
			t.Errorf("%s: Complete %v, want %v", tc.name, h.Complete, tc.complete)
		}
	}
}
