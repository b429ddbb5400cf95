package logctx

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewTextHandler(&buf, nil))).With("part", "delivery")
	ctx := With(context.Background(), slog.Uint64("conn", 7))
	ctx2 := With(ctx, slog.String("id", "7.1"))
	for _, tc := range []struct {
		log  func()
		want []string
		not  []string
	}{
		{func() { log.InfoContext(ctx2, "stored") }, []string{"part=delivery", "conn=7", "id=7.1"}, nil},
		{func() { log.InfoContext(ctx, "stored") }, []string{"conn=7"}, []string{"id="}},
		{func() { log.Info("no context") }, []string{"part=delivery"}, []string{"conn="}},
		{func() { log.WithGroup("g").InfoContext(ctx, "grouped", "k", 1) }, []string{"g.k=1", "g.conn=7"}, nil},
	} {
		buf.Reset()
		tc.log()
		line := buf.String()
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%q lacks %s", line, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(line, n) {
				t.Errorf("%q holds %s", line, n)
			}
		}
	}
	if h := NewHandler(NewHandler(slog.DiscardHandler)); h.(handler).Handler != slog.DiscardHandler {
		t.Errorf("wrapped twice")
	}
}
