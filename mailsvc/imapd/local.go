package imapd

import (
	"sync/atomic"

	"github.com/emersion/go-imap/v2/imapserver"
)

// connState is what the front layer and the Session of one connection
// share.
type connState struct {
	front  *frontConn
	remote string
	tls    atomic.Bool
	authed atomic.Bool
	cmd    atomic.Pointer[string]
	sess   *Session
	imap   *imapserver.Conn
}

func (c *connState) setCommand(name string) { c.cmd.Store(&name) }

// command is the name of the command being run ("UID FETCH" for UID
// commands).
func (c *connState) command() string {
	if p := c.cmd.Load(); p != nil {
		return *p
	}
	return ""
}

// runLocal answers the commands the front layer implements itself:
// STARTTLS (see startTLS), which takes no arguments.
func (f *frontConn) runLocal(tag, name, rest string) error {
	switch {
	case rest != "":
		f.writeLine(tag + " BAD STARTTLS takes no arguments")
	case f.srv.cfg.TLS == nil:
		f.writeLine(tag + " NO STARTTLS is not available here")
	case f.cs.tls.Load() || f.cs.authed.Load():
		f.writeLine(tag + " BAD STARTTLS only before logging in, without TLS")
	default:
		return f.startTLS(tag)
	}
	return nil
}
