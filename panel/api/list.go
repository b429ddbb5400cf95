package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// The lists of a domain and their members (tenants/list.go): one handler
// per action, all under /domains/{domain}/lists.

// ListJSON is a mailing list.
type ListJSON struct {
	Address         string    `json:"address"`
	LocalPart       string    `json:"local_part"`
	Kind            string    `json:"kind"`
	NonMembers      string    `json:"non_members"`
	BounceThreshold int64     `json:"bounce_threshold"`
	CreatedAt       time.Time `json:"created_at"`
}

func listJSON(l *tenants.List, d address.Domain) ListJSON {
	return ListJSON{Address: l.LocalPart + "@" + d.String(), LocalPart: l.LocalPart, Kind: l.Kind, NonMembers: l.NonMembers,
		BounceThreshold: l.BounceThreshold, CreatedAt: l.CreatedAt.UTC()}
}

// ListMemberJSON is one address of a list, with its roles and states.
type ListMemberJSON struct {
	Address   string `json:"address"`
	Member    bool   `json:"member"`
	Owner     bool   `json:"owner"`
	Moderator bool   `json:"moderator"`
	Paused    bool   `json:"paused"`
	Disabled  bool   `json:"disabled"`
}

type listCreateBody struct {
	LocalPart       string   `json:"local_part"`
	Kind            string   `json:"kind"`
	Owners          []string `json:"owners"`
	BounceThreshold *int64   `json:"bounce_threshold"`
	NonMembers      string   `json:"non_members"`
	Archive         string   `json:"archive"`
}

type listMembersBody struct {
	Addresses []string `json:"addresses"`
}

// maxMembersPerRequest bounds one request's addresses.
const maxMembersPerRequest = 1000

// listParam is the list named by :domain and :list.
func listParam(c echo.Context) (address.Address, bool) {
	d, ok := domainParam(c)
	if !ok {
		return address.Address{}, false
	}
	a, err := request.LocalParam(c, "list", d)
	return a, err == nil
}

func parseAddressList(c echo.Context, in []string, field string) ([]address.Address, error) {
	if len(in) > maxMembersPerRequest {
		return nil, fail(c, http.StatusUnprocessableEntity, "at most 1000 addresses a request", field)
	}
	out := make([]address.Address, 0, len(in))
	for _, s := range in {
		a, err := address.ParseAddress(s)
		if err != nil {
			return nil, fail(c, http.StatusUnprocessableEntity, s+": "+err.Error(), field)
		}
		out = append(out, a)
	}
	return out, nil
}

// listList: GET /domains/{domain}/lists
func (h handlers) listList(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	ls, err := h.Tenants.Lists(c.Request().Context(), scopeOf(c), d)
	if err != nil {
		return failErr(c, err)
	}
	out := make([]ListJSON, 0, len(ls))
	for i := range ls {
		out = append(out, listJSON(&ls[i], d))
	}
	return c.JSON(http.StatusOK, map[string]any{"lists": out})
}

// listCreate: POST /domains/{domain}/lists {"local_part","kind","owners","bounce_threshold","non_members"}
func (h handlers) listCreate(c echo.Context) error {
	d, ok := domainParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b listCreateBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	lp, err := address.ParseLocalpart(b.LocalPart)
	if err != nil {
		return fail(c, http.StatusUnprocessableEntity, err.Error(), "local_part")
	}
	owners, err := parseAddressList(c, b.Owners, "owners")
	if err != nil {
		return err
	}
	in := tenants.ListInput{Address: address.Address{Local: lp, Domain: d}, Kind: b.Kind, Owners: owners, BounceThreshold: -1, NonMembers: b.NonMembers}
	if b.Archive != "" {
		a, err := address.ParseAddress(b.Archive)
		if err != nil {
			return fail(c, http.StatusUnprocessableEntity, err.Error(), "archive")
		}
		in.Archive = a
	}
	if b.BounceThreshold != nil {
		if *b.BounceThreshold < 0 {
			return fail(c, http.StatusUnprocessableEntity, "bounce threshold must be 0 or more", "bounce_threshold")
		}
		in.BounceThreshold = *b.BounceThreshold
	}
	l, err := h.Tenants.CreateList(c.Request().Context(), scopeOf(c), in)
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusCreated, listJSON(l, d))
}

// listDelete: DELETE /domains/{domain}/lists/{list}
func (h handlers) listDelete(c echo.Context) error {
	a, ok := listParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.RemoveList(c.Request().Context(), scopeOf(c), a); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// listMemberList: GET /domains/{domain}/lists/{list}/members[?search=&limit=&offset=]
func (h handlers) listMemberList(c echo.Context) error {
	a, ok := listParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	limit, offset := paging(c)
	ms, total, err := h.Tenants.SearchListMembers(c.Request().Context(), scopeOf(c), a, c.QueryParam("search"), limit, offset)
	if err != nil {
		return failErr(c, err)
	}
	out := make([]ListMemberJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, ListMemberJSON{Address: m.Address, Member: m.Member, Owner: m.Owner, Moderator: m.Moderator, Paused: m.Paused, Disabled: m.Disabled})
	}
	return c.JSON(http.StatusOK, map[string]any{"members": out, "total": total})
}

// listMemberAdd: POST /domains/{domain}/lists/{list}/members {"addresses": [...]}, all or none.
func (h handlers) listMemberAdd(c echo.Context) error {
	a, ok := listParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	var b listMembersBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	addrs, err := parseAddressList(c, b.Addresses, "addresses")
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fail(c, http.StatusUnprocessableEntity, "no addresses", "addresses")
	}
	if err := h.Tenants.AddListMembers(c.Request().Context(), scopeOf(c), a, addrs); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// listMemberDelete: DELETE /domains/{domain}/lists/{list}/members/{address}
func (h handlers) listMemberDelete(c echo.Context) error {
	a, ok := listParam(c)
	if !ok {
		return failErr(c, tenants.ErrNotFound)
	}
	raw, err := url.PathUnescape(c.Param("member"))
	if err != nil {
		return failErr(c, tenants.ErrNotFound)
	}
	m, err := address.ParseAddress(raw)
	if err != nil {
		return failErr(c, tenants.ErrNotFound)
	}
	if err := h.Tenants.RemoveListMembers(c.Request().Context(), scopeOf(c), a, []address.Address{m}); err != nil {
		return failErr(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
