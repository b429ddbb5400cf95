package imapserver

import (
	"crypto/tls"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

func (c *Conn) canStartTLS() bool {
	_, isTLS := c.conn.(*tls.Conn)
	return c.server.options.TLSConfig != nil && c.state == imap.ConnStateNotAuthenticated && !isTLS
}

func (c *Conn) handleStartTLS(tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}

	if c.server.options.TLSConfig == nil {
		return &imap.Error{
			Type: imap.StatusResponseTypeNo,
			Text: "STARTTLS not supported",
		}
	}
	if !c.canStartTLS() {
		return &imap.Error{
			Type: imap.StatusResponseTypeBad,
			Text: "STARTTLS not available",
		}
	}

	// Do not allow to write cleartext data past this point: keep c.encMutex
	// locked until the end
	enc := newResponseEncoder(c)
	defer enc.end()

	err := writeStatusResp(enc.Encoder, tag, &imap.StatusResponse{
		Type: imap.StatusResponseTypeOK,
		Text: "Begin TLS negotiation now",
	})
	if err == nil {
		err = enc.Flush() // postdesk: before the handshake
	}
	if err != nil {
		return err
	}

	// postdesk: what the client sent after STARTTLS, before the handshake,
	// came in cleartext: it is discarded, not taken for the start of the
	// handshake (RFC 9051 6.2.1: the client waits for the tagged response;
	// a man in the middle could inject commands).
	if n := c.br.Buffered(); n > 0 {
		c.br.Discard(n)
	}

	tlsConn := tls.Server(c.conn, c.server.options.TLSConfig)

	c.mutex.Lock()
	c.conn = tlsConn
	c.mutex.Unlock()

	rw := c.server.options.wrapReadWriter(c, tlsConn)
	c.br.Reset(flushReader{conn: c, r: rw}) // postdesk
	c.bw.Reset(rw)

	return nil
}
