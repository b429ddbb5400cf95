package imapwire_test

// postdesk: tests of DiscardLine and MaxSize (PATCHES.md 11 and 12).

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// next decodes the atom that starts the next command on br.
func next(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	dec := imapwire.NewDecoder(br, imapwire.ConnSideServer)
	var s string
	if !dec.ExpectAtom(&s) {
		t.Fatalf("next command: %v", dec.Err())
	}
	return s
}

func TestDiscardLineLiterals(t *testing.T) {
	for _, c := range []struct {
		name, in string
		read     func(dec *imapwire.Decoder)
	}{
		// A non-synchronizing literal's data is dropped, and the lines
		// after it; a synchronizing one ends the command (the client waits
		// for a continuation request).
		{"non-sync", "a b {8+}\r\nx NOOP\r\n c {3+}\r\nabc\r\nNEXT\r\n", nil},
		{"sync", "a b {8}\r\nNEXT\r\n", nil},
		{"lone LF", "a {3+}\nabc\nNEXT\r\n", nil},
		{"not a literal", "a {x+}\r\nNEXT\r\n", nil},
		// The CRLF after a literal's size does not end the line.
		{"after a literal", "{3}\r\nabc rest {2+}\r\nxy\r\nNEXT\r\n", func(dec *imapwire.Decoder) {
			var s string
			if !dec.ExpectAString(&s) || s != "abc" {
				t.Fatalf("literal: %q, %v", s, dec.Err())
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(c.in))
			dec := imapwire.NewDecoder(br, imapwire.ConnSideServer)
			if c.read != nil {
				c.read(dec)
			} else {
				var s string
				dec.ExpectAtom(&s)
			}
			if err := dec.DiscardLine(); err != nil {
				t.Fatal(err)
			}
			if got := next(t, br); got != "NEXT" {
				t.Fatalf("next command %q", got)
			}
		})
	}

	dec := newTestDecoder("a {2000000+}\r\n")
	var s string
	dec.ExpectAtom(&s)
	if err := dec.DiscardLine(); !errors.Is(err, imapwire.ErrDiscardTooLarge) {
		t.Fatalf("literal over MaxDiscardLiteral: %v", err)
	}
}

func TestMaxSize(t *testing.T) {
	br := bufio.NewReader(strings.NewReader(strings.Repeat("a", 100) + " b {3+}\r\nc d\r\nNEXT\r\n"))
	dec := imapwire.NewDecoder(br, imapwire.ConnSideServer)
	dec.MaxSize = 10
	var s string
	if dec.ExpectAtom(&s) || !errors.Is(dec.Err(), imapwire.ErrMaxSize) {
		t.Fatalf("atom past MaxSize: %q, %v", s, dec.Err())
	}
	if err := dec.DiscardLine(); err != nil {
		t.Fatal(err)
	}
	if !dec.MaxSizeExceeded() {
		t.Fatal("MaxSizeExceeded false")
	}
	if got := next(t, br); got != "NEXT" {
		t.Fatalf("next command %q", got)
	}

	// A line within the limit but discarded past it.
	br = bufio.NewReader(strings.NewReader("a " + strings.Repeat("b", 100) + "\r\nNEXT\r\n"))
	dec = imapwire.NewDecoder(br, imapwire.ConnSideServer)
	dec.MaxSize = 10
	dec.ExpectAtom(&s)
	if dec.MaxSizeExceeded() {
		t.Fatal("MaxSizeExceeded after 1 byte")
	}
	if err := dec.DiscardLine(); err != nil || !dec.MaxSizeExceeded() {
		t.Fatalf("discarded past MaxSize: %v, exceeded %v", err, dec.MaxSizeExceeded())
	}
	if got := next(t, br); got != "NEXT" {
		t.Fatalf("next command %q", got)
	}
}
