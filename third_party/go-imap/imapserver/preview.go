package imapserver

// postdesk: PREVIEW (RFC 8970) for a server with imap.CapPreview in
// Options.Caps (PATCHES.md 25).

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// readPreviewMods reads PREVIEW's modifiers after the "(": LAZY.
func readPreviewMods(dec *imapwire.Decoder, options *imap.FetchOptions) error {
	for {
		var mod string
		if !dec.ExpectAtom(&mod) {
			return dec.Err()
		}
		if !strings.EqualFold(mod, "LAZY") {
			return newClientBugError("Unknown PREVIEW modifier")
		}
		options.PreviewLazy = true
		if dec.Special(')') {
			return nil
		}
		if !dec.ExpectSP() {
			return dec.Err()
		}
	}
}

// WritePreview writes the message's PREVIEW (RFC 8970 3): its text, at
// most 256 characters, or NIL if nil (only for PREVIEW (LAZY), when the
// server has none at hand).
func (w *FetchResponseWriter) WritePreview(preview *string) {
	w.writeItemSep()
	w.enc.Atom("PREVIEW").SP()
	if preview == nil {
		w.enc.NIL()
		return
	}
	w.enc.String(*preview)
}
