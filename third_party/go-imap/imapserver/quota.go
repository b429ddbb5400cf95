package imapserver

import (
	"sort"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// postdesk: the QUOTA extension (RFC 9208) for sessions implementing
// SessionQuota.

// QuotaData is the usage and limits of a quota root.
type QuotaData struct {
	Root      string
	Resources map[imap.QuotaResourceType]QuotaResourceData
}

// QuotaResourceData is the usage and limit of one resource. For
// imap.QuotaResourceStorage both are in units of 1024 octets (RFC 9208
// 5.1).
type QuotaResourceData struct {
	Usage int64
	Limit int64
}

// SessionQuota is an IMAP session which supports QUOTA (RFC 9208). The
// server advertises QUOTA and QUOTA=RES-<resource> for each resource that
// QuotaResources returns, once the client has logged in; QUOTASET only if
// Options.Caps has it.
type SessionQuota interface {
	Session

	// QuotaResources lists the resource types the server has.
	QuotaResources() []imap.QuotaResourceType

	// Authenticated state
	GetQuota(root string) (*QuotaData, error)
	// GetQuotaRoot returns the quota roots of a mailbox, with their data;
	// none if it has none (RFC 9208 4.3).
	GetQuotaRoot(mailbox string) ([]QuotaData, error)
	SetQuota(root string, limits map[imap.QuotaResourceType]int64) error
}

func (c *Conn) handleGetQuota(dec *imapwire.Decoder) error {
	var root string
	if !dec.ExpectSP() || !dec.ExpectAString(&root) || !dec.ExpectCRLF() {
		return dec.Err()
	}
	session, err := c.quotaSession()
	if err != nil {
		return err
	}
	data, err := session.GetQuota(root)
	if err != nil {
		return err
	}
	enc := newResponseEncoder(c)
	defer enc.end()
	return writeQuota(enc.Encoder, data)
}

func (c *Conn) handleGetQuotaRoot(dec *imapwire.Decoder) error {
	var mailbox string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&mailbox) || !dec.ExpectCRLF() {
		return dec.Err()
	}
	session, err := c.quotaSession()
	if err != nil {
		return err
	}
	roots, err := session.GetQuotaRoot(mailbox)
	if err != nil {
		return err
	}
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("QUOTAROOT").SP().Mailbox(mailbox)
	for _, r := range roots {
		enc.SP().String(r.Root)
	}
	if err := enc.CRLF(); err != nil {
		return err
	}
	for i := range roots {
		if err := writeQuota(enc.Encoder, &roots[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *Conn) handleSetQuota(dec *imapwire.Decoder) error {
	var root string
	if !dec.ExpectSP() || !dec.ExpectAString(&root) || !dec.ExpectSP() {
		return dec.Err()
	}
	limits := make(map[imap.QuotaResourceType]int64)
	err := dec.ExpectList(func() error {
		var name string
		var limit int64
		if !dec.ExpectAtom(&name) || !dec.ExpectSP() || !dec.ExpectNumber64(&limit) {
			return dec.Err()
		}
		limits[imap.QuotaResourceType(name)] = limit
		return nil
	})
	if err != nil {
		return err
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	session, err := c.quotaSession()
	if err != nil {
		return err
	}
	return session.SetQuota(root, limits)
}

func (c *Conn) quotaSession() (SessionQuota, error) {
	if err := c.checkState(imap.ConnStateAuthenticated); err != nil {
		return nil, err
	}
	session, ok := c.session.(SessionQuota)
	if !ok {
		return nil, newClientBugError("QUOTA is not supported")
	}
	return session, nil
}

// writeQuota writes a QUOTA response, resources in name order.
func writeQuota(enc *imapwire.Encoder, data *QuotaData) error {
	names := make([]string, 0, len(data.Resources))
	for name := range data.Resources {
		names = append(names, string(name))
	}
	sort.Strings(names)
	enc.Atom("*").SP().Atom("QUOTA").SP().String(data.Root).SP()
	enc.List(len(names), func(i int) {
		r := data.Resources[imap.QuotaResourceType(names[i])]
		enc.Atom(names[i]).SP().Number64(r.Usage).SP().Number64(r.Limit)
	})
	return enc.CRLF()
}
