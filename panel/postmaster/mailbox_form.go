package postmaster

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// settingsForm reads the settings part of a mailbox form; the rules are
// tenants'.
func settingsForm(c echo.Context, showPostmaster bool) (vpm.MailboxForm, tenants.MailboxUpdate, map[string]string) {
	f := vpm.MailboxForm{
		FullName: c.FormValue("full_name"), Quota: strings.TrimSpace(c.FormValue("quota")),
		Expires: strings.TrimSpace(c.FormValue("expires")), ExpireInactiveDays: strings.TrimSpace(c.FormValue("expire_inactive_days")),
		ExpireAfterDays: strings.TrimSpace(c.FormValue("expire_after_days")),
		Active:          c.FormValue("active") == "on", MaySend: c.FormValue("may_send") == "on",
		MayResponder: c.FormValue("may_responder") == "on", MayForward: c.FormValue("may_forward") == "on",
		Webmail: c.FormValue("webmail") == "on", Postmaster: c.FormValue("postmaster") == "on", ShowPostmaster: showPostmaster,
	}
	// Store mail is set with the forwards (its own form), not here.
	u := tenants.MailboxUpdate{FullName: &f.FullName, Active: &f.Active, MaySend: &f.MaySend,
		MayResponder: &f.MayResponder, MayForward: &f.MayForward, Webmail: &f.Webmail}
	if showPostmaster {
		u.Postmaster = &f.Postmaster
	}
	errs := map[string]string{}
	if f.Quota == "" {
		u.QuotaBytes = new(int64)
	} else if n, err := tenants.ParseSize(f.Quota); err != nil {
		errs["quota_bytes"] = err.Error()
	} else {
		u.QuotaBytes = &n
	}
	if t, err := tenants.ParseDate(f.Expires); err != nil {
		errs["expires"] = "use a date such as 2026-12-24"
	} else if t == nil {
		u.ClearExpiry = true
	} else {
		u.ExpiresAt = t
	}
	days := f.ExpireInactiveDays
	if days == "" {
		days = "0"
	}
	if n, err := strconv.ParseInt(days, 10, 64); err != nil {
		errs["expire_inactive_days"] = "give a number of days"
	} else {
		u.ExpireInactiveDays = &n
	}
	after := f.ExpireAfterDays
	if after == "" {
		after = "0"
	}
	if n, err := strconv.ParseInt(after, 10, 64); err != nil {
		errs["expire_after_days"] = "give a number of days"
	} else {
		u.ExpireAfterDays = &n
	}
	if len(errs) == 0 {
		errs = nil
	}
	return f, u, errs
}

// settingsOf turns an update read from a form into a new mailbox's
// settings; a new mailbox has no forwards, so it stores mail.
func settingsOf(u tenants.MailboxUpdate) tenants.MailboxSettings {
	st := tenants.MailboxSettings{
		Active: *u.Active, StoreMail: true, MaySend: *u.MaySend, MayResponder: *u.MayResponder,
		MayForward: *u.MayForward, Webmail: *u.Webmail, ExpiresAt: u.ExpiresAt,
	}
	if u.QuotaBytes != nil {
		st.QuotaBytes = *u.QuotaBytes
	}
	if u.ExpireInactiveDays != nil {
		st.ExpireInactiveDays = *u.ExpireInactiveDays
	}
	if u.ExpireAfterDays != nil {
		st.ExpireAfterDays = *u.ExpireAfterDays
	}
	if u.Postmaster != nil {
		st.Postmaster = *u.Postmaster
	}
	return st
}

// formOf shows a stored mailbox's settings.
func formOf(m *tenants.Mailbox, showPostmaster bool) vpm.MailboxForm {
	f := vpm.MailboxForm{
		FullName: m.FullName, Active: m.Active, MaySend: m.MaySend, MayResponder: m.MayResponder,
		MayForward: m.MayForward, Webmail: m.Webmail, Postmaster: m.Postmaster, ShowPostmaster: showPostmaster,
		Expires: viewmodel.Date(m.ExpiresAt), ExpireInactiveDays: strconv.FormatInt(m.ExpireInactiveDays, 10),
		ExpireAfterDays: strconv.FormatInt(m.ExpireAfterDays, 10),
	}
	if m.QuotaBytes > 0 {
		f.Quota = tenants.FormatSize(m.QuotaBytes)
	}
	return f
}
