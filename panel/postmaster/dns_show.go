package postmaster

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// dnsShow shows the records the domain should publish beside what DNS
// shows now, and the DKIM key forms.
func (h handlers) dnsShow(c echo.Context) error {
	vm, err := h.dnsPage(c)
	if err != nil {
		return err
	}
	return request.Render(c, http.StatusOK, vpm.DNS(*vm))
}

func (h handlers) dnsPage(c echo.Context) (*vpm.DNSPage, error) {
	d, name, err := h.domain(c)
	if err != nil {
		return nil, err
	}
	ctx, sc := c.Request().Context(), request.IdentityOf(c).Scope
	recs, err := h.Tenants.ExpectedDNS(ctx, sc, name, h.MailHost)
	if err != nil {
		return nil, request.Status(err)
	}
	vm := &vpm.DNSPage{Page: h.Page(c, "DNS records of "+d.Name), Domain: d.Name,
		MTASTSAction: domainHref(name) + "/mta-sts", MTASTSMode: d.MTASTSMode}
	statuses := make([]tenants.DNSStatus, len(recs))
	for i, r := range recs {
		statuses[i].DNSRecord = r
	}
	if h.DNS != nil {
		statuses, vm.Checked = h.DNS.CheckDNS(ctx, recs), true
	}
	keys, active := 0, 0
	for _, st := range statuses {
		row := vpm.DNSRow{Kind: st.Kind, Zone: st.Zone(), Status: st.Status, Problem: st.Problem, Published: st.Published}
		if st.Kind == tenants.DNSDKIM {
			keys++
			row.Note = st.Selector + ": " + st.State
			switch st.State {
			case tenants.DKIMPending:
				vm.Waiting = true
			case tenants.DKIMActive:
				active++
			}
		}
		vm.Records = append(vm.Records, row)
	}
	switch {
	case keys == 0:
		vm.AddAction = domainHref(name) + "/dkim"
	case !vm.Waiting:
		vm.RotateAction = domainHref(name) + "/dkim/rotate"
	}
	return vm, nil
}
