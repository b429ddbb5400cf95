package imapserver

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// postdesk: the ID command (RFC 2971) for sessions implementing SessionID.

// SessionID is an IMAP session which supports ID (RFC 2971).
type SessionID interface {
	Session

	// Any state. ID receives what the client sent (nil for NIL) and
	// returns what the server tells about itself (nil for NIL).
	ID(client *imap.IDData) (*imap.IDData, error)
}

// RFC 2971 3.3: field strings are at most 30 octets, values at most 1024,
// and there are at most 30 pairs.
const (
	maxIDFields    = 30
	maxIDFieldSize = 30
	maxIDValueSize = 1024
)

func (c *Conn) handleID(dec *imapwire.Decoder) error {
	var client *imap.IDData
	if !dec.ExpectSP() {
		return dec.Err()
	}
	var atom string
	if dec.Atom(&atom) {
		if !dec.Expect(strings.EqualFold(atom, "NIL"), "NIL or '('") {
			return dec.Err()
		}
	} else {
		client = &imap.IDData{}
		var key string
		n := 0
		haveKey := false
		err := dec.ExpectList(func() error {
			var s string
			if !haveKey {
				if !dec.ExpectString(&s) {
					return dec.Err()
				}
				n++
				if n > maxIDFields || len(s) > maxIDFieldSize {
					return newClientBugError("ID: at most 30 fields of at most 30 octets (RFC 2971 3.3)")
				}
				key, haveKey = strings.ToLower(s), true
				return nil
			}
			if !dec.ExpectNString(&s) {
				return dec.Err()
			}
			if len(s) > maxIDValueSize {
				return newClientBugError("ID: values are at most 1024 octets (RFC 2971 3.3)")
			}
			setIDField(client, key, s)
			haveKey = false
			return nil
		})
		if err != nil {
			return err
		}
		if haveKey {
			return newClientBugError("ID: a field without a value")
		}
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}

	session, ok := c.session.(SessionID)
	if !ok {
		return newClientBugError("ID is not supported")
	}
	server, err := session.ID(client)
	if err != nil {
		return err
	}

	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("ID").SP()
	fields := idFields(server)
	if len(fields) == 0 {
		enc.NIL()
	} else {
		enc.List(len(fields)/2, func(i int) {
			enc.Quoted(fields[2*i]).SP().String(fields[2*i+1])
		})
	}
	return enc.CRLF()
}

func setIDField(data *imap.IDData, key, value string) {
	switch key {
	case "name":
		data.Name = value
	case "version":
		data.Version = value
	case "os":
		data.OS = value
	case "os-version":
		data.OSVersion = value
	case "vendor":
		data.Vendor = value
	case "support-url":
		data.SupportURL = value
	case "address":
		data.Address = value
	case "date":
		data.Date = value
	case "command":
		data.Command = value
	case "arguments":
		data.Arguments = value
	case "environment":
		data.Environment = value
	}
}

// idFields lists the non-empty fields of data as key, value pairs.
func idFields(data *imap.IDData) []string {
	if data == nil {
		return nil
	}
	var out []string
	for _, f := range []struct{ k, v string }{
		{"name", data.Name}, {"version", data.Version}, {"os", data.OS},
		{"os-version", data.OSVersion}, {"vendor", data.Vendor},
		{"support-url", data.SupportURL}, {"address", data.Address},
		{"date", data.Date}, {"command", data.Command},
		{"arguments", data.Arguments}, {"environment", data.Environment},
	} {
		if f.v != "" {
			out = append(out, f.k, f.v)
		}
	}
	return out
}
