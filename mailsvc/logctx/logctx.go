// Package logctx carries log attributes in a context, so that the code a
// connection calls (delivery, the store) logs with that connection's id
// and address without being handed its logger: a handler made by
// NewHandler adds them to every record logged with the context (slog's
// ...Context methods).
package logctx

import (
	"context"
	"log/slog"
	"slices"
)

type key struct{}

// With returns ctx carrying attrs besides those it carries already.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(key{}).([]slog.Attr)
	return context.WithValue(ctx, key{}, append(slices.Clip(prev), attrs...))
}

// NewHandler wraps h so that a record logged with a context gets the
// context's attributes.
func NewHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, _ := ctx.Value(key{}).([]slog.Attr); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
