package imapd

import (
	"testing"

	"github.com/postdesk/postdesk/mailsvc/store"
)

// TestAddressText: the text SEARCH FROM, TO, CC and BCC match an address
// field's addresses against.
func TestAddressText(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"", ""},
		{"user-from@domain.org", "user-from@domain.org"},
		{"<user-from (comment)@ (comment) domain.org>", "user-from@domain.org"},
		{"user-from@domain.org (RealFrom)", "RealFrom <user-from@domain.org>"},
		{`"Doe, John" <j@x.test>, k@y.test`, "Doe, John <j@x.test>, k@y.test"},
		{"=?utf-8?q?Gr=C3=BC=C3=9Fe?= <a@x.test>", "Grüße <a@x.test>"},
		{"groupname: groupuser1@domain.org, groupuser2@domain.org;, groupname2: groupuser3@domain.org;, z@z.test",
			"groupname: groupuser1@domain.org, groupuser2@domain.org;, groupname2: groupuser3@domain.org;, z@z.test"},
		{"undisclosed-recipients:;", "undisclosed-recipients: ;"},
	} {
		if got := addressText(store.AddressList(tc.value)); got != tc.want {
			t.Errorf("%q\n got %q\nwant %q", tc.value, got, tc.want)
		}
	}
}

func TestIsAddressField(t *testing.T) {
	for key, want := range map[string]bool{"From": true, "to": true, "CC": true, "Bcc": true,
		"Subject": false, "Sender": false, "Reply-To": false, "X-From": false} {
		if got := isAddressField(key); got != want {
			t.Errorf("isAddressField(%q) = %v, want %v", key, got, want)
		}
	}
}
