package imapd_test

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestAppendBroken: APPEND takes mail that breaks the MIME rules, as
// delivery does, and FETCH gives it back as it came.
func TestAppendBroken(t *testing.T) {
	msgs := []string{
		// A multipart cut off before its closing boundary.
		"Subject: cut\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/plain\r\n\r\ncut off",
		// NUL bytes and raw 8-bit bytes in the header, which PostgreSQL's
		// text columns refuse.
		"Subject: caf\xe9 \x00\xff\r\nFrom: J\xf6rg <j@example.test>\r\n\r\nbody\r\n",
		// A header line without a colon.
		"Subject: x\r\nno colon here\r\n\r\nbody\r\n",
	}
	forEachEngine(t, func(t *testing.T, e *env) {
		c := e.client("john@example.test", nil)
		for i, msg := range msgs {
			ac := c.Append("INBOX", int64(len(msg)), nil)
			ac.Write([]byte(msg))
			ac.Close()
			ad, err := ac.Wait()
			if err != nil {
				t.Fatalf("append %d refused: %v", i, err)
			}
			_, err = c.Select("INBOX", nil).Wait()
			tcheck(t, err, "select")
			whole := &imap.FetchItemBodySection{Peek: true}
			got, err := c.Fetch(imap.UIDSetNum(ad.UID), &imap.FetchOptions{Envelope: true,
				BodyStructure: &imap.FetchItemBodyStructure{Extended: true}, BodySection: []*imap.FetchItemBodySection{whole}}).Collect()
			tcheck(t, err, "fetch")
			if len(got) != 1 || string(got[0].FindBodySection(whole)) != msg || got[0].BodyStructure == nil {
				t.Fatalf("fetch of append %d: %+v", i, got)
			}
		}
	})
}
