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
