package postmaster

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

// listHeldModerate approves or rejects a held post from the list's page:
// the same moderation as the signed link mailed to the moderators
// (Moderation.Moderate with a token made for this list and post), so that
// a post goes out once whichever is used first.
func (h handlers) listHeldModerate(c echo.Context) error {
	a, err := h.listParam(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	action := c.Param("action")
	if action != tenants.ModerateApprove && action != tenants.ModerateReject {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	l, err := h.Tenants.List(ctx, request.IdentityOf(c).Scope, a)
	if err != nil {
		return request.Status(err)
	}
	tok, err := h.Tenants.ModerationToken(ctx, l, id, action)
	if err != nil {
		return err
	}
	back := listHref(a.Domain.String(), string(a.Local))
	ch, err := h.Moderation.Moderate(ctx, tok, c.RealIP())
	switch {
	case errors.Is(err, tenants.ErrBadToken):
		return h.Done(c, "That post was moderated already.", back)
	case err != nil:
		return err
	case action == tenants.ModerateApprove:
		return h.Done(c, "The post from "+ch.Address+" was sent to the list.", back)
	}
	return h.Done(c, "The post from "+ch.Address+" was rejected.", back)
}
