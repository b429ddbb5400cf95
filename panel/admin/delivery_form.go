package admin

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	vadmin "github.com/postdesk/postdesk/views/admin"
)

// deliveryForm reads the Delivery Options form into settings; errors are
// per field. The rules themselves are the queue's: this only parses
// numbers and durations. The smart host's password is taken as typed
// (empty keeps the stored one) and never put back into the form.
func deliveryForm(c echo.Context) (vadmin.DeliveryForm, queueadmin.Settings, map[string]string) {
	f := vadmin.DeliveryForm{
		MaxConnections: strings.TrimSpace(c.FormValue("max_connections")), DNSServer: strings.TrimSpace(c.FormValue("dns_server")),
		SmartHost: strings.TrimSpace(c.FormValue("smart_host")), SmartHostPort: strings.TrimSpace(c.FormValue("smart_host_port")),
		SmartHostTLS: c.FormValue("smart_host_tls") == "on", SmartHostUsername: strings.TrimSpace(c.FormValue("smart_host_username")),
		SmartHostDelay: strings.TrimSpace(c.FormValue("smart_host_delay")), Lifetime: strings.TrimSpace(c.FormValue("lifetime")),
		RetryIntervals: strings.TrimSpace(c.FormValue("retry_intervals")), ArchiveAddress: strings.TrimSpace(c.FormValue("archive_address")),
		ReportAddress: strings.TrimSpace(c.FormValue("report_address")), ReportInterval: strings.TrimSpace(c.FormValue("report_interval")),
	}
	s := queueadmin.Settings{
		DNSServer: f.DNSServer, ArchiveAddress: f.ArchiveAddress, ReportAddress: f.ReportAddress,
		SmartHost: queueadmin.Relay{Host: f.SmartHost, ImplicitTLS: f.SmartHostTLS, Username: f.SmartHostUsername, Password: c.FormValue("smart_host_password")},
	}
	if c.FormValue("smart_host_clear") == "on" {
		// An empty user name drops the stored credentials.
		s.SmartHost.Username, s.SmartHost.Password, f.SmartHostUsername = "", "", ""
	}
	errs := map[string]string{}
	var err error
	if s.MaxConnections, err = strconv.Atoi(f.MaxConnections); err != nil {
		errs["max_connections"] = "give a whole number from 1 to 99"
	}
	if s.SmartHost.Port, err = queueadmin.ParsePort(f.SmartHostPort); err != nil {
		errs["smart_host_port"] = err.Error()
	}
	if s.SmartHostDelay, err = queueadmin.ParseDuration(f.SmartHostDelay); err != nil {
		errs["smart_host_delay"] = err.Error()
	}
	if s.Lifetime, err = queueadmin.ParseDuration(f.Lifetime); err != nil {
		errs["lifetime"] = err.Error()
	}
	for _, v := range viewmodel.SplitList(f.RetryIntervals) {
		d, err := queueadmin.ParseDuration(v)
		if err != nil {
			errs["retry_intervals"] = err.Error()
			break
		}
		s.RetryIntervals = append(s.RetryIntervals, d)
	}
	if s.ReportInterval, err = queueadmin.ParseDuration(f.ReportInterval); err != nil {
		errs["report_interval"] = err.Error()
	}
	if len(errs) > 0 {
		return f, s, errs
	}
	return f, s, nil
}

// deliveryView shows stored settings in the form.
func deliveryView(s *queueadmin.Settings) vadmin.DeliveryForm {
	f := vadmin.DeliveryForm{
		MaxConnections: strconv.Itoa(s.MaxConnections), DNSServer: s.DNSServer,
		SmartHost: s.SmartHost.Host, SmartHostTLS: s.SmartHost.ImplicitTLS, SmartHostUsername: s.SmartHost.Username,
		SmartHostPassword: s.SmartHost.HasPassword, SmartHostDelay: queueadmin.FormatDuration(s.SmartHostDelay),
		Lifetime: queueadmin.FormatDuration(s.Lifetime), ArchiveAddress: s.ArchiveAddress, ReportAddress: s.ReportAddress,
		ReportInterval: queueadmin.FormatDuration(s.ReportInterval),
	}
	if s.SmartHost.Port != 0 {
		f.SmartHostPort = strconv.Itoa(s.SmartHost.Port)
	}
	var ri []string
	for _, d := range s.RetryIntervals {
		ri = append(ri, queueadmin.FormatDuration(d))
	}
	f.RetryIntervals = strings.Join(ri, " ")
	return f
}

// routeForm reads the route form; its password is taken as typed and
// never put back into the form.
func routeForm(c echo.Context) (vadmin.RouteForm, queueadmin.Route, map[string]string) {
	f := vadmin.RouteForm{
		Domain: strings.TrimSpace(c.FormValue("domain")), Host: strings.TrimSpace(c.FormValue("host")),
		Port: strings.TrimSpace(c.FormValue("host_port")), TLS: c.FormValue("host_tls") == "on",
		Username: strings.TrimSpace(c.FormValue("host_username")),
	}
	r := queueadmin.Route{Domain: f.Domain, Relay: queueadmin.Relay{Host: f.Host, ImplicitTLS: f.TLS, Username: f.Username, Password: c.FormValue("password")}}
	if c.FormValue("clear_credentials") == "on" {
		r.Username, r.Password, f.Username = "", "", ""
	}
	port, err := queueadmin.ParsePort(f.Port)
	if err != nil {
		return f, r, map[string]string{"host_port": err.Error()}
	}
	r.Port = port
	return f, r, nil
}

// routeView shows a stored route in the form, for a change.
func routeView(r *queueadmin.Route) vadmin.RouteForm {
	f := vadmin.RouteForm{Domain: r.Domain, Host: r.Host, TLS: r.ImplicitTLS, Username: r.Username, Password: r.HasPassword, Editing: true}
	if r.Port != 0 {
		f.Port = strconv.Itoa(r.Port)
	}
	return f
}

// routeRow is a route in the routing table.
func routeRow(r *queueadmin.Route) vadmin.RouteRow {
	host := r.Host + ":" + strconv.Itoa(r.Port)
	if strings.Contains(r.Host, ":") {
		host = "[" + r.Host + "]:" + strconv.Itoa(r.Port)
	}
	if r.ImplicitTLS {
		host += " (TLS)"
	}
	cred := "none"
	if r.Username != "" {
		cred = "user " + r.Username
		if r.HasPassword {
			cred += ", password stored"
		}
	}
	return vadmin.RouteRow{Domain: r.Domain, Host: host, Credentials: cred,
		EditHref:     "/admin/delivery?route=" + url.QueryEscape(r.Domain) + "#route-form",
		DeleteAction: "/admin/delivery/routes/" + url.PathEscape(r.Domain) + "/delete"}
}
