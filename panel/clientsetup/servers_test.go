package clientsetup

import "testing"

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Servers
		ok   bool
	}{
		{DefaultPorts, Servers{IMAPS: 993, IMAP: 143, Submissions: 465, Submission: 587, POP3S: 995, POP3: 110}, true},
		{"imaps=10993, submission=10587", Servers{IMAPS: 10993, Submission: 10587}, true},
		{"IMAPS=993,Submissions=465", Servers{IMAPS: 993, Submissions: 465}, true},
		{"pop3s=995,submissions=465", Servers{POP3S: 995, Submissions: 465}, true},
		{"imaps=993", Servers{}, false},                // nowhere to send
		{"submission=587", Servers{}, false},           // nowhere to read
		{"imaps=0,submission=587", Servers{}, false},   // not a port
		{"imaps=993,smtp=25", Servers{}, false},        // the MX is not for clients
		{"imaps:993,submission=587", Servers{}, false}, // not PROTOCOL=PORT
	} {
		var s Servers
		err := s.ParsePorts(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParsePorts(%q): %v", tc.in, err)
			continue
		}
		if tc.ok && s != tc.want {
			t.Errorf("ParsePorts(%q) = %+v, want %+v", tc.in, s, tc.want)
		}
	}
}
