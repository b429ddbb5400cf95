package request

import (
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/views"
)

// ForwardsForm reads a forwards form. Each address is parsed at this edge;
// a malformed one is a field error.
func ForwardsForm(c echo.Context, action, csrf string) (views.ForwardForm, []address.Address, bool) {
	f := views.ForwardForm{Action: action, CSRFToken: csrf, Addresses: c.FormValue("addresses"), StoreMail: c.FormValue("store_mail") == "on"}
	var to []address.Address
	for _, s := range viewmodel.SplitList(f.Addresses) {
		a, err := address.ParseAddress(s)
		if err != nil {
			f.Errors = map[string]string{"addresses": err.Error()}
			return f, nil, false
		}
		to = append(to, a)
	}
	return f, to, true
}

// ForwardsView shows stored forwards in the form.
func ForwardsView(list []string, store bool, action, csrf string) views.ForwardForm {
	return views.ForwardForm{Action: action, CSRFToken: csrf, Addresses: strings.Join(list, "\n"), StoreMail: store}
}

// ResponderForm reads a responder form.
func ResponderForm(c echo.Context, action, csrf string) (views.ResponderForm, tenants.ResponderInput, bool) {
	f := views.ResponderForm{
		Action: action, CSRFToken: csrf, Enabled: c.FormValue("enabled") == "on",
		Subject: c.FormValue("subject"), Body: c.FormValue("body"),
		Start: c.FormValue("start"), End: c.FormValue("end"), IntervalDays: strings.TrimSpace(c.FormValue("interval_days")),
	}
	in := tenants.ResponderInput{Enabled: f.Enabled, Subject: f.Subject, Body: f.Body}
	errs := map[string]string{}
	var err error
	if in.StartsAt, err = tenants.ParseDate(f.Start); err != nil {
		errs["start"] = "use a date such as 2026-12-24"
	}
	if in.EndsAt, err = tenants.ParseEnd(f.End); err != nil {
		errs["end"] = "use a date such as 2026-12-24"
	}
	if f.IntervalDays != "" {
		if in.IntervalDays, err = strconv.ParseInt(f.IntervalDays, 10, 64); err != nil {
			errs["interval_days"] = "give a number of days"
		}
	}
	if len(errs) > 0 {
		f.Errors = errs
		return f, in, false
	}
	return f, in, true
}

// ResponderView shows a stored responder in the form.
func ResponderView(r *tenants.Responder, now time.Time, action, csrf string) views.ResponderForm {
	status := "Off."
	switch {
	case r.Active(now):
		status = "On: answering incoming mail."
		if r.EndsAt != nil {
			status = "On until " + endText(r.EndsAt) + "."
		}
	case r.Enabled && r.StartsAt != nil && now.Before(*r.StartsAt):
		status = "Scheduled from " + viewmodel.When(r.StartsAt) + " UTC."
	case r.Enabled:
		status = "Ended " + endText(r.EndsAt) + "."
	}
	return views.ResponderForm{
		Action: action, CSRFToken: csrf, Enabled: r.Enabled, Subject: r.Subject, Body: r.Body,
		Start: viewmodel.Date(r.StartsAt), End: viewmodel.EndDate(r.EndsAt), IntervalDays: strconv.FormatInt(r.IntervalDays, 10), Status: status,
	}
}

// endText writes the end of a period: "the end of 2026-12-24 (UTC)" for
// one a date gave (tenants.ParseEnd), else the time.
func endText(t *time.Time) string {
	if u := t.UTC(); u.Equal(u.Truncate(24 * time.Hour)) {
		return "the end of " + viewmodel.EndDate(t) + " (UTC)"
	}
	return viewmodel.When(t) + " UTC"
}

// MergeErrors adds a tenants error to a form's field errors; ok is false
// for errors that are not the user's to fix.
func MergeErrors(dst *map[string]string, err error) bool {
	fe, ok := FieldErrors(err)
	if !ok {
		return false
	}
	if *dst == nil {
		*dst = map[string]string{}
	}
	for k, v := range fe {
		(*dst)[k] = v
	}
	return true
}
