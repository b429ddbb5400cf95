package imapserver

// postdesk: MULTIAPPEND (RFC 3502) for a Session implementing
// SessionMultiAppend (PATCHES.md 22).

import (
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// SessionMultiAppend is a Session that supports MULTIAPPEND (RFC 3502):
// APPEND with several messages, stored all or none. Every APPEND, one
// message or more, then goes through it.
type SessionMultiAppend interface {
	Session

	// BeginAppend starts an APPEND to mailbox. An error (no such
	// mailbox) fails the command before any message is read.
	BeginAppend(mailbox string) (Appender, error)
}

// Appender receives the messages of one APPEND command.
type Appender interface {
	// Add reads one message and holds it, not yet in the mailbox.
	Add(r imap.LiteralReader, options *imap.AppendOptions) error
	// Commit stores every message held, all or none (RFC 3502 6.3.11),
	// and returns the mailbox's UIDVALIDITY and the messages' UIDs in
	// order, for APPENDUID (RFC 4315).
	Commit() (uidValidity uint32, uids []imap.UID, err error)
	// Abort drops the messages held; called instead of Commit when the
	// command fails.
	Abort()
}

// handleMultiAppend reads an APPEND's messages one after the other into
// an Appender and commits them once the command's line has ended.
func (c *Conn) handleMultiAppend(tag string, dec *imapwire.Decoder, mailbox string, session SessionMultiAppend) error {
	appendLimit := int64(defaultAppendLimit)
	if appendLimitSession, ok := c.session.(SessionAppendLimit); ok {
		appendLimit = int64(appendLimitSession.AppendLimit())
	}
	var appender Appender
	var failed error // a message was refused: the rest are dropped
	committed := false
	defer func() {
		if appender != nil && !committed {
			appender.Abort()
		}
	}()
	for {
		var options imap.AppendOptions
		hasFlagList, err := dec.List(func() error {
			flag, err := internal.ExpectFlag(dec)
			if err != nil {
				return err
			}
			options.Flags = append(options.Flags, flag)
			return nil
		})
		if err != nil {
			return err
		}
		if hasFlagList && !dec.ExpectSP() {
			return dec.Err()
		}
		t, err := internal.DecodeDateTime(dec)
		if err != nil {
			return err
		}
		if !t.IsZero() && !dec.ExpectSP() {
			return dec.Err()
		}
		options.Time = t

		var dataExt string
		options.Binary = dec.Special('~')          // literal8 (BINARY, RFC 3516)
		if !options.Binary && dec.Atom(&dataExt) { // UTF8 (RFC 6855)
			if !strings.EqualFold(dataExt, "UTF8") {
				return newClientBugError("Unknown APPEND data extension")
			}
			if !dec.ExpectSP() || !dec.ExpectSpecial('(') || !dec.ExpectSpecial('~') {
				return dec.Err()
			}
		}
		lit, nonSync, err := dec.ExpectLiteralReader()
		if err != nil {
			return err
		}
		if failed != nil {
			// No "+" for a synchronizing literal: the client stops
			// and gets the NO. A non-synchronizing one's data is
			// on its way: read and dropped, not taken for commands.
			if !nonSync {
				dec.RefuseLiteral(lit, nonSync, failed)
				return failed
			}
			if _, err := io.Copy(io.Discard, lit); err != nil {
				return err
			}
			if dataExt != "" && !dec.ExpectSpecial(')') {
				return dec.Err()
			}
			if !dec.SP() {
				break
			}
			continue
		}
		// Checked before the data is read, as APPEND does: the name,
		// the size, the state, the mailbox.
		if err := dec.MailboxNameErr(); err != nil {
			dec.RefuseLiteral(lit, nonSync, err)
			return err
		}
		if err := c.checkNonSyncLiteral(lit.Size(), nonSync); err != nil {
			dec.RefuseLiteral(lit, nonSync, err)
			return err
		}
		if lit.Size() > appendLimit {
			err := &imap.Error{
				Type: imap.StatusResponseTypeNo,
				Code: imap.ResponseCodeTooBig,
				Text: fmt.Sprintf("Literals are limited to %v bytes for this command", appendLimit),
			}
			dec.RefuseLiteral(lit, nonSync, err)
			return err
		}
		if err := c.checkState(imap.ConnStateAuthenticated); err != nil {
			dec.RefuseLiteral(lit, nonSync, err)
			return err
		}
		if appender == nil {
			appender, err = session.BeginAppend(mailbox)
			if err != nil {
				dec.RefuseLiteral(lit, nonSync, err)
				return err
			}
		}
		if err := c.acceptLiteral(lit.Size(), nonSync); err != nil {
			dec.RefuseLiteral(lit, nonSync, err)
			return err
		}

		c.setReadTimeout(literalReadTimeout)
		addErr := appender.Add(lit, &options)
		_, discardErr := io.Copy(io.Discard, lit)
		c.setReadTimeout(cmdReadTimeout)
		if discardErr != nil {
			return discardErr
		}
		if dataExt != "" && !dec.ExpectSpecial(')') {
			return dec.Err()
		}
		if addErr != nil {
			// Nothing is stored (RFC 3502 6.3.11); the rest of the
			// command is read without taking its messages.
			failed = addErr
		}
		if !dec.SP() {
			break
		}
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if failed != nil {
		return failed
	}
	uidValidity, uids, err := appender.Commit()
	committed = true
	if err != nil {
		return err
	}
	if err := c.poll("APPEND"); err != nil {
		return err
	}
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom(tag).SP().Atom("OK").SP()
	if len(uids) > 0 && uidValidity != 0 {
		var set imap.UIDSet
		for _, uid := range uids {
			set.AddNum(uid)
		}
		enc.Special('[').Atom("APPENDUID").SP().Number(uidValidity).SP().NumSet(set).Special(']').SP()
	}
	enc.Text("APPEND completed")
	return enc.CRLF()
}
