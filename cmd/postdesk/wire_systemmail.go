package main

import (
	"context"
	"errors"
	"io"

	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

// systemMail gives the panel the message store's system mailbox in the
// panel's terms (request.SystemMail); the store checks the scope.
type systemMail struct{ st *store.Store }

func (s systemMail) SystemMessages(ctx context.Context, sc tenants.Scope, limit, offset int) ([]request.SystemMessage, int64, error) {
	ms, total, err := s.st.SystemMessages(ctx, sc, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]request.SystemMessage, len(ms))
	for i := range ms {
		out[i] = systemMessage(&ms[i])
	}
	return out, total, nil
}

func (s systemMail) SystemMessage(ctx context.Context, sc tenants.Scope, id int64) (*request.SystemMessage, io.ReadCloser, error) {
	m, r, err := s.st.SystemMessage(ctx, sc, id)
	if err != nil {
		return nil, nil, systemNotFound(err)
	}
	wm := systemMessage(m)
	return &wm, r, nil
}

func (s systemMail) DeleteSystemMessage(ctx context.Context, sc tenants.Scope, id int64) error {
	return systemNotFound(s.st.DeleteSystemMessage(ctx, sc, id))
}

func systemMessage(m *store.SystemMessage) request.SystemMessage {
	return request.SystemMessage{ID: m.ID, Subject: m.Subject, From: m.FromAddr, To: m.ToAddr, Size: m.Size, ReceivedAt: m.ReceivedAt}
}

// systemNotFound maps the store's "no such message" to the panel's not-found.
func systemNotFound(err error) error {
	if errors.Is(err, store.ErrNoMessage) {
		return errors.Join(err, tenants.ErrNotFound)
	}
	return err
}
