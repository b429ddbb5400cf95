package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

type domainPatchBody struct {
	Description          *string `json:"description"`
	Active               *bool   `json:"active"`
	MaxMailboxes         *int64  `json:"max_mailboxes"`
	MaxAliases           *int64  `json:"max_aliases"`
	DefaultQuotaBytes    *int64  `json:"default_quota_bytes"`
	MaxMailboxQuotaBytes *int64  `json:"max_mailbox_quota_bytes"`
	StorageTotalBytes    *int64  `json:"storage_total_bytes"`
}

// domainFields maps tenants' field names to this body's, for error answers.
var domainFields = map[string]string{"default_quota": "default_quota_bytes", "max_mailbox_quota": "max_mailbox_quota_bytes",
	"storage_total": "storage_total_bytes"}

// domainUpdate: PATCH /domains/{domain} — admin keys only; the fields
// given change: the domain's limits, among them what its postmasters may
// grant (max_mailbox_quota_bytes, storage_total_bytes).
func (h handlers) domainUpdate(c echo.Context) error {
	if !scopeOf(c).AllDomains() {
		return failErr(c, tenants.ErrForbidden)
	}
	name, err := address.ParseDomain(c.Param("domain"))
	if err != nil {
		return failErr(c, tenants.ErrNotFound)
	}
	var b domainPatchBody
	if ok, err := decode(c, &b); !ok {
		return err
	}
	u := tenants.DomainUpdate{Description: b.Description, Active: b.Active, MaxMailboxes: b.MaxMailboxes, MaxAliases: b.MaxAliases,
		DefaultQuota: b.DefaultQuotaBytes, MaxMailboxQuota: b.MaxMailboxQuotaBytes, StorageTotal: b.StorageTotalBytes}
	if _, err := h.Tenants.UpdateDomain(c.Request().Context(), scopeOf(c), name, u); err != nil {
		var ve *tenants.ValidationError
		if errors.As(err, &ve) && domainFields[ve.Field] != "" {
			err = &tenants.ValidationError{Field: domainFields[ve.Field], Message: ve.Message}
		}
		return failErr(c, err)
	}
	return h.writeDomain(c, http.StatusOK, name)
}
