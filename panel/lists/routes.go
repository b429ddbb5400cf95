// Package lists serves the links of mailing lists' mail, which work without
// a login: a post's RFC 8058 one-click unsubscribe and the confirmation of
// a subscription or unsubscription asked by mail. They sit outside the
// panel's session and CSRF group: the token in the link is what
// authenticates them (tenants.Signer for one-click, a stored one-time token
// for confirmations).
package lists

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	listviews "github.com/postdesk/postdesk/views/lists"
)

// Lists is what the links change (tenants.Service).
type Lists interface {
	UnsubscribeLink(ctx context.Context, token string) (*tenants.ListChange, error)
	ListRequestLink(ctx context.Context, token string) (*tenants.ListChange, error)
	UnsubscribeByToken(ctx context.Context, token, remote string) (*tenants.ListChange, error)
	ConfirmListRequest(ctx context.Context, token, remote string) (*tenants.ListChange, error)
}

// Moderation approves or rejects a held post through its signed link
// (mailsvc/delivery's Deliverer).
type Moderation interface {
	HeldPost(ctx context.Context, token string) (*tenants.ListChange, error)
	Moderate(ctx context.Context, token, remote string) (*tenants.ListChange, error)
}

type handlers struct {
	lists Lists
	mod   Moderation
	env   *request.Env
	log   *slog.Logger
}

// Routes adds the list links to e, outside any session or CSRF middleware.
// mod nil leaves the moderation links out.
func Routes(e *echo.Echo, lists Lists, mod Moderation, env *request.Env, log *slog.Logger) {
	h := handlers{lists: lists, mod: mod, env: env, log: log}
	if mod != nil {
		e.GET("/lists/m/:token", h.moderatePage)
		e.POST("/lists/m/:token", h.moderate)
	}
	e.GET("/lists/u/:token", h.unsubscribePage)
	e.POST("/lists/u/:token", h.unsubscribe)
	e.GET("/lists/confirm/:token", h.confirmPage)
	e.POST("/lists/confirm/:token", h.confirm)
}

// maxToken bounds a token before any work is done on it.
const maxToken = 1024

func (h handlers) render(c echo.Context, status int, vm listviews.LinkPage) error {
	vm.Page = h.env.Page(c, vm.Heading)
	return request.Render(c, status, listviews.Link(vm))
}

// unsubscribePage is what a person who opens the link sees: a button, so
// that a link checker fetching it unsubscribes nobody.
func (h handlers) unsubscribePage(c echo.Context) error {
	if len(c.Param("token")) > maxToken {
		return h.render(c, http.StatusBadRequest, badLink)
	}
	ch, err := h.lists.UnsubscribeLink(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.failed(c, "unsubscribe link", err)
	}
	return h.render(c, http.StatusOK, listviews.LinkPage{Heading: "Unsubscribe",
		Text: "Stop sending " + ch.List + "'s mail to " + ch.Address + "?", Action: c.Request().URL.Path, Button: "Unsubscribe"})
}

// unsubscribe is the one-click POST (RFC 8058 3.2): a mail provider sends
// "List-Unsubscribe=One-Click" without cookies and wants a 2xx, not a
// redirect. The button of unsubscribePage posts here too.
func (h handlers) unsubscribe(c echo.Context) error {
	token := c.Param("token")
	if len(token) > maxToken {
		return h.render(c, http.StatusBadRequest, badLink)
	}
	ch, err := h.lists.UnsubscribeByToken(c.Request().Context(), token, request.ClientOf(c).Addr)
	if err != nil {
		return h.failed(c, "one-click unsubscribe", err)
	}
	h.log.InfoContext(c.Request().Context(), "one-click unsubscribe", "list", ch.List, "address", ch.Address)
	return h.render(c, http.StatusOK, listviews.LinkPage{Heading: "Unsubscribed",
		Text: ch.Address + " no longer receives mail from " + ch.List + "."})
}

func (h handlers) confirmPage(c echo.Context) error {
	if len(c.Param("token")) > maxToken {
		return h.render(c, http.StatusBadRequest, badLink)
	}
	ch, err := h.lists.ListRequestLink(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.failed(c, "confirmation link", err)
	}
	what := "Subscribe " + ch.Address + " to " + ch.List + "?"
	if ch.Action == tenants.ListRoleUnsubscribe {
		what = "Unsubscribe " + ch.Address + " from " + ch.List + "?"
	}
	return h.render(c, http.StatusOK, listviews.LinkPage{Heading: "Confirm", Text: what, Action: c.Request().URL.Path, Button: "Confirm"})
}

func (h handlers) confirm(c echo.Context) error {
	token := c.Param("token")
	if len(token) > maxToken {
		return h.render(c, http.StatusBadRequest, badLink)
	}
	ch, err := h.lists.ConfirmListRequest(c.Request().Context(), token, request.ClientOf(c).Addr)
	if err != nil {
		return h.failed(c, "list confirmation", err)
	}
	text := ch.Address + " is now subscribed to " + ch.List + "."
	if ch.Action == tenants.ListRoleUnsubscribe {
		text = ch.Address + " no longer receives mail from " + ch.List + "."
	}
	h.log.InfoContext(c.Request().Context(), "list change confirmed", "list", ch.List, "address", ch.Address, "action", ch.Action)
	return h.render(c, http.StatusOK, listviews.LinkPage{Heading: "Confirmed", Text: text})
}

// moderatePage shows a moderation link's button; the POST acts.
func (h handlers) moderatePage(c echo.Context) error {
	if len(c.Param("token")) > maxToken {
		return h.render(c, http.StatusBadRequest, badLink)
	}
	ch, err := h.mod.HeldPost(c.Request().Context(), c.Param("token"))
	if err != nil {
		return h.failed(c, "moderation link", err)
	}
	verb, button := "Send", "Approve"
	if ch.Action == tenants.ModerateReject {
		verb, button = "Drop", "Reject"
	}
	return h.render(c, http.StatusOK, listviews.LinkPage{Heading: "Moderate",
		Text: verb + " the post from " + ch.Address + " to " + ch.List + " (subject: " + ch.Subject + ")?", Action: c.Request().URL.Path, Button: button})
}

func (h handlers) moderate(c echo.Context) error {
	token := c.Param("token")
	if len(token) > maxToken {
		return h.render(c, http.StatusBadRequest, badLink)
	}
	ch, err := h.mod.Moderate(c.Request().Context(), token, request.ClientOf(c).Addr)
	if err != nil {
		return h.failed(c, "moderation", err)
	}
	text := "The post from " + ch.Address + " went out to " + ch.List + "."
	if ch.Action == tenants.ModerateReject {
		text = "The post from " + ch.Address + " to " + ch.List + " was rejected."
	}
	h.log.InfoContext(c.Request().Context(), "held post moderated", "list", ch.List, "action", ch.Action)
	return h.render(c, http.StatusOK, listviews.LinkPage{Heading: "Done", Text: text})
}

var badLink = listviews.LinkPage{Heading: "Invalid link", Text: "This link is not valid.", Error: true}

// failed answers a link that did nothing: forged, changed, used or expired
// links get one page each, with no detail about lists or addresses.
func (h handlers) failed(c echo.Context, what string, err error) error {
	switch {
	case errors.Is(err, tenants.ErrBadToken), errors.Is(err, tenants.ErrNotFound):
		h.log.InfoContext(c.Request().Context(), what+" refused", "err", err, "remote", request.ClientOf(c).Addr)
		return h.render(c, http.StatusForbidden, listviews.LinkPage{Heading: "Invalid link",
			Text: "This link is not valid, or was used already.", Error: true})
	case errors.Is(err, tenants.ErrTokenExpired):
		return h.render(c, http.StatusGone, listviews.LinkPage{Heading: "Link expired", Text: "This link has expired.", Error: true})
	}
	return err
}
