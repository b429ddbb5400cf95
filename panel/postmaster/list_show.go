package postmaster

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// listShow shows a list's members, searched and paged.
func (h handlers) listShow(c echo.Context) error {
	vm, err := h.listPage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.List(*vm))
}

// listParam is the :list of the reachable domain.
func (h handlers) listParam(c echo.Context) (address.Address, error) {
	_, name, err := h.domain(c)
	if err != nil {
		return address.Address{}, err
	}
	return request.LocalParam(c, "list", name)
}

func (h handlers) listPage(c echo.Context) (*vpm.ListPage, error) {
	a, err := h.listParam(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	sc := request.IdentityOf(c).Scope
	l, err := h.Tenants.List(ctx, sc, a)
	if err != nil {
		return nil, request.Status(err)
	}
	search := strings.TrimSpace(c.QueryParam("q"))
	page := request.PageNumber(c)
	ms, total, err := h.Tenants.SearchListMembers(ctx, sc, a, search, viewmodel.PageSize, (page-1)*viewmodel.PageSize)
	if err != nil {
		return nil, request.Status(err)
	}
	base := listHref(a.Domain.String(), string(a.Local))
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	vm := &vpm.ListPage{Page: h.Page(c, a.String()), Address: a.String(), Kind: l.Kind, Action: base, Search: search,
		Pager: viewmodel.MakePager(base, q, page, total, "address", "addresses"), AddAction: base + "/members", ExportHref: base + "/members.csv"}
	for _, m := range ms {
		var roles []string
		for _, r := range []struct {
			on   bool
			name string
		}{{m.Member, "member"}, {m.Owner, "owner"}, {m.Moderator, "moderator"}} {
			if r.on {
				roles = append(roles, r.name)
			}
		}
		state := ""
		switch {
		case m.Disabled:
			state = "disabled by bounces"
		case m.Paused:
			state = "paused"
		}
		mhref := base + "/members/" + url.PathEscape(m.Address)
		vm.Rows = append(vm.Rows, vpm.ListMemberRow{Address: m.Address, Roles: strings.Join(roles, ", "), State: state, IsMember: m.Member,
			Paused: m.Paused || m.Disabled, RemoveAction: mhref + "/delete", PauseAction: mhref + "/pause"})
	}
	if h.Moderation != nil {
		held, err := h.Moderation.HeldPosts(ctx, l)
		if err != nil {
			return nil, err
		}
		for _, p := range held {
			act := base + "/held/" + strconv.FormatInt(p.ID, 10) + "/"
			vm.Held = append(vm.Held, vpm.HeldPostRow{From: p.From, Subject: p.Subject, Size: viewmodel.Num(p.Size) + " bytes",
				Received: viewmodel.When(&p.ReceivedAt), Expires: viewmodel.When(&p.ExpiresAt),
				ApproveAction: act + tenants.ModerateApprove, RejectAction: act + tenants.ModerateReject})
		}
	}
	return vm, nil
}
