package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants/queueadmin"
)

// DeliveryJSON is the Delivery Options; durations are written as the
// panel's form takes them (30s, 10m, 1h20m, 5d).
type DeliveryJSON struct {
	MaxConnections int       `json:"max_connections"`
	DNSServer      string    `json:"dns_server"`
	SmartHost      RelayJSON `json:"smart_host"`
	SmartHostDelay string    `json:"smart_host_delay"`
	Lifetime       string    `json:"lifetime"`
	RetryIntervals []string  `json:"retry_intervals"`
	ArchiveAddress string    `json:"archive_address"`
	ReportAddress  string    `json:"report_address"`
	ReportInterval string    `json:"report_interval"`
}

func deliveryJSON(s *queueadmin.Settings) DeliveryJSON {
	out := DeliveryJSON{
		MaxConnections: s.MaxConnections, DNSServer: s.DNSServer, SmartHost: relayJSON(s.SmartHost),
		SmartHostDelay: queueadmin.FormatDuration(s.SmartHostDelay), Lifetime: queueadmin.FormatDuration(s.Lifetime),
		RetryIntervals: []string{}, ArchiveAddress: s.ArchiveAddress, ReportAddress: s.ReportAddress,
		ReportInterval: queueadmin.FormatDuration(s.ReportInterval),
	}
	for _, d := range s.RetryIntervals {
		out.RetryIntervals = append(out.RetryIntervals, queueadmin.FormatDuration(d))
	}
	return out
}

// deliveryGet: GET /delivery.
func (h handlers) deliveryGet(c echo.Context) error {
	s, err := h.Queue.DeliveryOptions(c.Request().Context(), scopeOf(c))
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(http.StatusOK, deliveryJSON(s))
}

// deliveryPatch: PATCH /delivery changes the settings the body names and
// keeps the others; smart_host, when given, replaces the smart host whole
// (an empty host: none).
func (h handlers) deliveryPatch(c echo.Context) error {
	var b struct {
		MaxConnections *int       `json:"max_connections"`
		DNSServer      *string    `json:"dns_server"`
		SmartHost      *RelayJSON `json:"smart_host"`
		SmartHostDelay *string    `json:"smart_host_delay"`
		Lifetime       *string    `json:"lifetime"`
		RetryIntervals []string   `json:"retry_intervals"`
		ArchiveAddress *string    `json:"archive_address"`
		ReportAddress  *string    `json:"report_address"`
		ReportInterval *string    `json:"report_interval"`
	}
	if ok, err := decode(c, &b); !ok {
		return err
	}
	ctx := c.Request().Context()
	s, err := h.Queue.DeliveryOptions(ctx, scopeOf(c))
	if err != nil {
		return failErr(c, err)
	}
	if b.MaxConnections != nil {
		s.MaxConnections = *b.MaxConnections
	}
	if b.DNSServer != nil {
		s.DNSServer = *b.DNSServer
	}
	if b.SmartHost != nil {
		s.SmartHost = b.SmartHost.relay()
	}
	if b.ArchiveAddress != nil {
		s.ArchiveAddress = *b.ArchiveAddress
	}
	if b.ReportAddress != nil {
		s.ReportAddress = *b.ReportAddress
	}
	for _, v := range []struct {
		field string
		in    *string
		into  *time.Duration
	}{
		{"smart_host_delay", b.SmartHostDelay, &s.SmartHostDelay},
		{"lifetime", b.Lifetime, &s.Lifetime},
		{"report_interval", b.ReportInterval, &s.ReportInterval},
	} {
		if v.in == nil {
			continue
		}
		d, err := queueadmin.ParseDuration(*v.in)
		if err != nil {
			return fail(c, http.StatusUnprocessableEntity, err.Error(), v.field)
		}
		*v.into = d
	}
	if b.RetryIntervals != nil {
		s.RetryIntervals = nil
		for _, v := range b.RetryIntervals {
			d, err := queueadmin.ParseDuration(v)
			if err != nil {
				return fail(c, http.StatusUnprocessableEntity, err.Error(), "retry_intervals")
			}
			s.RetryIntervals = append(s.RetryIntervals, d)
		}
	}
	if err := h.Queue.SetDeliveryOptions(ctx, scopeOf(c), *s); err != nil {
		return failErr(c, err)
	}
	return h.deliveryGet(c)
}
