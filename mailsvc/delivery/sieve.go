package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"
	"github.com/foxcpp/go-sieve"
	"github.com/foxcpp/go-sieve/interp"

	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// ErrSieveRejected: the one recipient's Sieve script rejected the message
// (RFC 5429) while the client waits for the answer to DATA, which then
// refuses it (550 5.7.1). SieveRejection gives the script's reason.
var ErrSieveRejected = errors.New("rejected by the recipient's filter")

// SieveRejection is the error of a Sieve reject at SMTP time; Reason is
// the script's text, made safe for an SMTP reply.
type SieveRejection struct{ Reason string }

func (e *SieveRejection) Error() string { return "rejected by the recipient's filter: " + e.Reason }
func (e *SieveRejection) Unwrap() error { return ErrSieveRejected }

// maxSieveBodyBytes bounds what a Sieve body test (RFC 5173) reads of a
// message: the first MiB, so that a test costs the same on any message.
const maxSieveBodyBytes = 1 << 20

// sieveCopy is one copy a script files: a folder ("" for INBOX) and the
// flags it is stored with (imap4flags, RFC 5232).
type sieveCopy struct {
	Folder string
	Flags  store.Flags
}

// sieveOutcome is what a mailbox's active script decided for a message.
type sieveOutcome struct {
	copies    []sieveCopy       // keep and fileinto, in the order run
	redirects []address.Address // each a forward (expand.go)
	reject    string            // set: reject or ereject (RFC 5429)
	rejected  bool
}

// discards reports whether the script keeps no copy and sends none on.
func (o *sieveOutcome) discards() bool {
	return len(o.copies) == 0 && len(o.redirects) == 0 && !o.rejected
}

// runSieve runs a storing mailbox's active script on m, received for
// rcpt. ok is false when the mailbox has no active script. A script that
// fails while it runs (too many redirects, a broken variable) keeps the
// message in INBOX, the implicit keep RFC 5228 2.10.6 asks for; only
// database trouble is an error.
func (d *Deliverer) runSieve(ctx context.Context, log *slog.Logger, m *Message, p *tenants.Plan, rcpt address.Address) (*sieveOutcome, bool, error) {
	sc, err := d.tenants.ActiveSieve(ctx, p.Mailbox.MailboxID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	keep := &sieveOutcome{copies: []sieveCopy{{}}}
	script, err := tenants.CompileSieve(sc.Content)
	if err != nil {
		// Stored scripts compiled when stored; a newer bound may refuse
		// one since.
		log.WarnContext(ctx, "active sieve script does not compile; keeping the message", "script", sc.Name, "err", err)
		return keep, true, nil
	}
	to := rcpt
	if to.IsZero() {
		to = p.Mailbox.Address
	}
	msg := &sieveMessage{m: m}
	env := interp.EnvelopeStatic{From: m.From.String(), To: to.String()}
	rd := sieve.NewRuntimeData(script, sievePolicy{}, env, msg)
	out := &sieveOutcome{}
	files := 0
	rd.OnAction = func(ctx context.Context, a interp.AppliedAction, rd *interp.RuntimeData) error {
		rd.AppliedActions = append(rd.AppliedActions, a)
		switch a := a.(type) {
		case interp.ActionKeep:
			out.copies = append(out.copies, sieveCopy{Flags: sieveFlags(a.Flags)})
		case interp.ActionFileInto:
			files++
			if files > tenants.MaxSieveFileinto {
				return fmt.Errorf("more than %d fileinto actions", tenants.MaxSieveFileinto)
			}
			out.copies = append(out.copies, sieveCopy{Folder: a.Mailbox, Flags: sieveFlags(a.Flags)})
		case interp.ActionRedirect:
			ad, err := address.ParseAddress(a.Address)
			if err != nil {
				log.InfoContext(ctx, "sieve redirect to an invalid address ignored", "address", a.Address, "err", err)
				return nil
			}
			out.redirects = append(out.redirects, ad)
		case interp.ActionReject:
			out.rejected, out.reject = true, a.Reason
		case interp.ActionEReject:
			out.rejected, out.reject = true, a.Reason
		}
		return nil
	}
	if err := script.Execute(ctx, rd); err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		log.InfoContext(ctx, "sieve script failed; keeping the message", "script", sc.Name, "err", err)
		return keep, true, nil
	}
	// Copies into one folder are one copy (RFC 5228 2.10.3), their flags
	// joined.
	seen := map[string]int{}
	var copies []sieveCopy
	for _, c := range out.copies {
		k := strings.ToLower(c.Folder)
		if strings.EqualFold(c.Folder, "INBOX") {
			k, c.Folder = "", ""
		}
		if i, ok := seen[k]; ok {
			copies[i].Flags = append(copies[i].Flags, c.Flags...)
			continue
		}
		seen[k] = len(copies)
		copies = append(copies, c)
	}
	out.copies = copies
	return out, true, nil
}

// sieveFlags keeps the flags a message may carry: the system flags and
// keywords that are IMAP atoms (RFC 3501 9, flag-keyword).
func sieveFlags(in []string) store.Flags {
	var out store.Flags
	for _, f := range in {
		if f == "" || len(f) > 100 {
			continue
		}
		if strings.HasPrefix(f, `\`) {
			switch strings.ToLower(f) {
			case `\seen`, `\answered`, `\flagged`, `\deleted`, `\draft`:
				out = append(out, f)
			}
			continue
		}
		if strings.IndexFunc(f, func(r rune) bool {
			return r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r)
		}) < 0 {
			out = append(out, f)
		}
	}
	return out
}

// sievePolicy lets every redirect through to the delivery, which decides
// it as it decides a forward (expand.go).
type sievePolicy struct{}

func (sievePolicy) RedirectAllowed(context.Context, *interp.RuntimeData, string) (bool, error) {
	return true, nil
}

// sieveMessage is a message as a script sees it: the header delivery
// parsed, with encoded words decoded (RFC 5228 2.7.2), and the body for
// the body test, its first maxSieveBodyBytes.
type sieveMessage struct{ m *Message }

var _ interp.BodyMessage = (*sieveMessage)(nil)

func (s *sieveMessage) HeaderGet(key string) ([]string, error) {
	vs := s.m.Header.Fields.Values(key)
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	out := make([]string, len(vs))
	for i, v := range vs {
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		out[i] = strings.TrimSpace(v)
	}
	return out, nil
}

func (s *sieveMessage) MessageSize() int { return int(s.m.Blob.Size()) }

func (s *sieveMessage) raw() io.Reader {
	return io.LimitReader(io.NewSectionReader(s.m.Blob.ReaderAt(), 0, s.m.Blob.Size()), maxSieveBodyBytes)
}

func (s *sieveMessage) BodyRaw(ctx context.Context) (io.Reader, error) {
	return interp.ParseBodyRaw(ctx, s.raw())
}

func (s *sieveMessage) BodyParts(ctx context.Context, contentTypes []string) ([]interp.BodyPart, error) {
	return interp.ParseBodyParts(ctx, s.raw(), contentTypes, maxSieveBodyBytes)
}

// smtpReason makes a script's reject reason fit an SMTP reply: printable
// ASCII on one line, at most 200 characters.
func smtpReason(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 200 {
			break
		}
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r >= ' ' && r < 0x7f:
			b.WriteRune(r)
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if out == "" {
		out = "Rejected by the recipient's filter"
	}
	return out
}
