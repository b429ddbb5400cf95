package request

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/views"
)

// Queue is the outbound queue as the panel uses it: the Delivery Options
// and routing table (administrators), the queued messages and the failed
// deliveries (administrators: all; a postmaster's scope: the own domain's).
// cmd/postdesk passes mailsvc/queue's *Queue. Errors a user can fix are
// *tenants.ValidationError naming the form field; others are
// tenants.ErrForbidden and tenants.ErrNotFound. Every change is written to
// the audit log by the queue, in the transaction of the change.
type Queue interface {
	DeliveryOptions(ctx context.Context, sc tenants.Scope) (*queueadmin.Settings, error)
	SetDeliveryOptions(ctx context.Context, sc tenants.Scope, s queueadmin.Settings) error
	Routes(ctx context.Context, sc tenants.Scope) ([]queueadmin.Route, error)
	SetRoute(ctx context.Context, sc tenants.Scope, r queueadmin.Route) error
	DeleteRoute(ctx context.Context, sc tenants.Scope, domain string) error
	QueueMessages(ctx context.Context, sc tenants.Scope, q queueadmin.QueueQuery) ([]queueadmin.Message, int64, error)
	QueueMessage(ctx context.Context, sc tenants.Scope, id int64) (*queueadmin.Message, error)
	RetryNow(ctx context.Context, sc tenants.Scope, id int64) error
	DeleteQueued(ctx context.Context, sc tenants.Scope, id int64) error
	Failures(ctx context.Context, sc tenants.Scope, limit, offset int) ([]queueadmin.Failure, int64, error)
	SendFailureReport(ctx context.Context, sc tenants.Scope) error
}

// recentFailures is how many failures the queue page shows; the failures
// page pages through all of them.
const recentFailures = 10

// QueueList builds the queue page of sc at base (/admin/queue or
// /d/DOMAIN/queue): the messages matching ?q=, paged, and the most recent
// failures.
func (e *Env) QueueList(c echo.Context, sc tenants.Scope, base string) (views.QueuePage, error) {
	ctx := c.Request().Context()
	page := PageNumber(c)
	search := strings.TrimSpace(c.QueryParam("q"))
	msgs, total, err := e.Queue.QueueMessages(ctx, sc, queueadmin.QueueQuery{Search: search, Limit: viewmodel.PageSize, Offset: (page - 1) * viewmodel.PageSize})
	if err != nil {
		return views.QueuePage{}, err
	}
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	vm := views.QueuePage{Action: base, Search: search, FailuresHref: base + "/failures",
		Pager: viewmodel.MakePager(base, q, page, total, "queued message", "queued messages")}
	for i := range msgs {
		vm.Rows = append(vm.Rows, queueRow(&msgs[i], base))
	}
	fs, ftotal, err := e.Queue.Failures(ctx, sc, recentFailures, 0)
	if err != nil {
		return views.QueuePage{}, err
	}
	vm.FailuresTotal = viewmodel.Count(ftotal, "failed delivery", "failed deliveries")
	for i := range fs {
		vm.Failures = append(vm.Failures, failureRow(&fs[i], base))
	}
	return vm, nil
}

// QueueFailures builds the page of every failed delivery sc reaches.
func (e *Env) QueueFailures(c echo.Context, sc tenants.Scope, base string) (views.FailuresPage, error) {
	page := PageNumber(c)
	fs, total, err := e.Queue.Failures(c.Request().Context(), sc, viewmodel.PageSize, (page-1)*viewmodel.PageSize)
	if err != nil {
		return views.FailuresPage{}, err
	}
	vm := views.FailuresPage{BackHref: base, Pager: viewmodel.MakePager(base+"/failures", url.Values{}, page, total, "failed delivery", "failed deliveries")}
	for i := range fs {
		vm.Rows = append(vm.Rows, failureRow(&fs[i], base))
	}
	return vm, nil
}

// QueueShow builds the page of the queued message :id.
func (e *Env) QueueShow(c echo.Context, sc tenants.Scope, base string) (views.QueueMessagePage, error) {
	id, err := QueueID(c)
	if err != nil {
		return views.QueueMessagePage{}, err
	}
	m, err := e.Queue.QueueMessage(c.Request().Context(), sc, id)
	if err != nil {
		return views.QueueMessagePage{}, Status(err)
	}
	href := base + "/" + strconv.FormatInt(m.ID, 10)
	vm := views.QueueMessagePage{
		Heading: "Queued message " + strconv.FormatInt(m.ID, 10), BackHref: base,
		Kind: m.Kind, From: sender(m.From), Subject: m.Subject, Size: humanize.IBytes(uint64(max(m.Size, 0))),
		Created: viewmodel.When(&m.Created), Expires: viewmodel.When(&m.Expires), NextAttempt: nextAttempt(m),
		RetryAction: href + "/retry", DeleteAction: href + "/delete",
	}
	for _, r := range m.Recipients {
		vm.Recipients = append(vm.Recipients, views.QueueRecipientRow{
			Address: r.Address, State: recipientState(m, &r), Attempts: strconv.Itoa(r.Attempts),
			NextAttempt: viewmodel.When(&r.NextAttempt), LastAttempt: viewmodel.When(r.LastAttempt), LastError: r.LastError,
			RemoteHost: r.RemoteHost, RemoteReply: r.RemoteReply,
		})
	}
	return vm, nil
}

// QueueRetry makes the queued message :id due now and goes back to the
// list or the message's page.
func (e *Env) QueueRetry(c echo.Context, sc tenants.Scope, base string) error {
	id, err := QueueID(c)
	if err != nil {
		return err
	}
	if err := e.Queue.RetryNow(c.Request().Context(), sc, id); err != nil {
		return Status(err)
	}
	to := base + "/" + strconv.FormatInt(id, 10)
	if c.FormValue("return") == "list" {
		to = base
	}
	return e.Done(c, "Message "+strconv.FormatInt(id, 10)+" will be tried again now.", to)
}

// QueueDelete removes the queued message :id without a notice to its
// sender.
func (e *Env) QueueDelete(c echo.Context, sc tenants.Scope, base string) error {
	id, err := QueueID(c)
	if err != nil {
		return err
	}
	if err := e.Queue.DeleteQueued(c.Request().Context(), sc, id); err != nil {
		return Status(err)
	}
	return e.Done(c, "Message "+strconv.FormatInt(id, 10)+" removed from the queue.", base)
}

// QueueID parses the :id path parameter; a malformed one is "not found".
func QueueID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return id, nil
}

// queueRow is a queued message as the list shows it.
func queueRow(m *queueadmin.Message, base string) views.QueueRow {
	href := base + "/" + strconv.FormatInt(m.ID, 10)
	row := views.QueueRow{
		ID: strconv.FormatInt(m.ID, 10), Href: href, Kind: m.Kind, From: sender(m.From), Subject: m.Subject,
		Size: humanize.IBytes(uint64(max(m.Size, 0))), Created: viewmodel.When(&m.Created), NextAttempt: nextAttempt(m),
		RetryAction: href + "/retry", DeleteAction: href + "/delete",
	}
	attempts := 0
	var last *time.Time
	for i := range m.Recipients {
		r := &m.Recipients[i]
		row.Recipients = append(row.Recipients, r.Address)
		attempts = max(attempts, r.Attempts)
		if r.LastError != "" && (last == nil || (r.LastAttempt != nil && r.LastAttempt.After(*last))) {
			row.LastError, last = shorten(r.LastError, 160), r.LastAttempt
		}
	}
	row.Attempts = strconv.Itoa(attempts)
	return row
}

func failureRow(f *queueadmin.Failure, base string) views.FailureRow {
	reported := "no"
	if f.Reported {
		reported = "yes"
	}
	return views.FailureRow{
		FailedAt: viewmodel.When(&f.FailedAt), QueueID: strconv.FormatInt(f.QueueID, 10), Kind: f.Kind, From: sender(f.From),
		Recipient: f.Recipient, Subject: f.Subject, Error: f.Error, RemoteHost: f.RemoteHost,
		Attempts: strconv.Itoa(f.Attempts), Reported: reported,
	}
}

// sender shows an envelope sender; the null sender is <>.
func sender(s string) string {
	if s == "" {
		return "<>"
	}
	return s
}

func nextAttempt(m *queueadmin.Message) string {
	if m.Sending {
		return "sending now"
	}
	return viewmodel.When(&m.NextAttempt)
}

func recipientState(m *queueadmin.Message, r *queueadmin.Recipient) string {
	s := "waiting"
	switch {
	case m.Sending:
		s = "being delivered"
	case r.Attempts == 0:
		s = "not tried yet"
	case r.LastError != "":
		s = "deferred: will be tried again"
	}
	if r.Local {
		s += " (local copy)"
	}
	return s
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
