package pop3d

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// stuffedByLines is the plain line-at-a-time form of writeStuffed, which
// holds a whole line in memory; writeStuffed must send the same bytes.
func stuffedByLines(msg []byte, topLines int) []byte {
	var out bytes.Buffer
	inBody, body := false, 0
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line = msg[:i+1]
		}
		msg = msg[len(line):]
		if inBody && topLines >= 0 {
			if body >= topLines {
				break
			}
			body++
		}
		content := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if !inBody && len(content) == 0 {
			inBody = true
		}
		if len(content) > 0 && content[0] == '.' {
			out.WriteByte('.')
		}
		out.Write(content)
		out.WriteString("\r\n")
	}
	return out.Bytes()
}

func TestWriteStuffed(t *testing.T) {
	cases := []string{
		"",
		"Subject: x\r\n\r\n.\r\n..x\r\nend",
		"A: b\r\n\r\n" + strings.Repeat("y", 40) + "\r\n." + strings.Repeat("z", 40) + "\r\n",
		// A line end split by the buffer, a CR inside a long line, a dot
		// in the middle of a long line at a buffer boundary.
		strings.Repeat("a", 15) + "\r\n" + strings.Repeat("b", 15) + "\rc\r\n\r\n" + strings.Repeat("c", 16) + "." + "\r\n",
		"bare\nlf\n\n.dot\n",
		"no end\r",
		"\r\r\n",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// The second alphabet makes lines longer than the reader's buffer.
	alphabets := [][]byte{[]byte("ab.\r\n"), []byte("aaaaaaaaaaaaaaab.\r\n")}
	for n := range 4000 {
		alphabet := alphabets[n%2]
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		for _, top := range []int{-1, 0, 1, 3} {
			want := stuffedByLines([]byte(c), top)
			var got bytes.Buffer
			w := bufio.NewWriter(&got)
			// The smallest reader buffer, so lines are cut into pieces.
			if err := writeStuffed(w, bufio.NewReaderSize(strings.NewReader(c), 16), top); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("message %q top %d:\ngot  %q\nwant %q", c, top, got.Bytes(), want)
			}
		}
	}
}

// BenchmarkWriteStuffedLongLine sends an 8 MB message of one line; B/op
// stays at the reader's buffer instead of the line's length.
func BenchmarkWriteStuffedLongLine(b *testing.B) {
	msg := "Subject: x\r\n\r\n" + strings.Repeat("x", 8<<20) + "\r\n"
	w := bufio.NewWriter(discard{})
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := writeStuffed(w, bufio.NewReaderSize(strings.NewReader(msg), 32<<10), -1); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
