package api

import (
	"time"

	"github.com/postdesk/postdesk/tenants"
)

// DomainJSON is a domain as the API shows it.
type DomainJSON struct {
	Name              string `json:"name"`
	Description       string `json:"description"`
	Active            bool   `json:"active"`
	MaxMailboxes      int64  `json:"max_mailboxes"`
	MaxAliases        int64  `json:"max_aliases"`
	DefaultQuotaBytes int64  `json:"default_quota_bytes"`
	// MaxMailboxQuotaBytes and StorageTotalBytes bound the quotas its
	// postmasters grant (0: the default quota is the most; no total).
	MaxMailboxQuotaBytes int64     `json:"max_mailbox_quota_bytes"`
	StorageTotalBytes    int64     `json:"storage_total_bytes"`
	AliasOf              string    `json:"alias_of,omitempty"`
	Mailboxes            int64     `json:"mailboxes"`
	Aliases              int64     `json:"aliases"`
	CreatedAt            time.Time `json:"created_at"`
}

func domainJSON(d tenants.DomainInfo) DomainJSON {
	return DomainJSON{
		Name: d.Name, Description: d.Description, Active: d.Active, MaxMailboxes: d.MaxMailboxes, MaxAliases: d.MaxAliases,
		DefaultQuotaBytes: d.DefaultQuota, MaxMailboxQuotaBytes: d.MaxMailboxQuota, StorageTotalBytes: d.StorageTotal, AliasOf: d.AliasOf, Mailboxes: d.Mailboxes, Aliases: d.Aliases, CreatedAt: d.CreatedAt.UTC(),
	}
}

// MailboxJSON is a mailbox as the API shows it; never its password.
type MailboxJSON struct {
	Address            string     `json:"address"`
	LocalPart          string     `json:"local_part"`
	Domain             string     `json:"domain"`
	FullName           string     `json:"full_name"`
	QuotaBytes         int64      `json:"quota_bytes"`
	Active             bool       `json:"active"`
	StoreMail          bool       `json:"store_mail"`
	MaySend            bool       `json:"may_send"`
	MayResponder       bool       `json:"may_responder"`
	MayForward         bool       `json:"may_forward"`
	Webmail            bool       `json:"webmail"`
	Postmaster         bool       `json:"postmaster"`
	InDirectory        bool       `json:"in_directory"`
	MayEditGAB         bool       `json:"may_edit_gab"`
	ExpiresAt          *time.Time `json:"expires_at"`
	ExpireInactiveDays int64      `json:"expire_inactive_days"`
	ExpireAfterDays    int64      `json:"expire_after_days"`
	SignInOff          bool       `json:"sign_in_off"`
	LastLoginAt        *time.Time `json:"last_login_at"`
	CreatedAt          time.Time  `json:"created_at"`
	Aliases            []string   `json:"aliases,omitempty"`
}

func mailboxJSON(m *tenants.Mailbox, domain string) MailboxJSON {
	return MailboxJSON{
		Address: m.LocalPart + "@" + domain, LocalPart: m.LocalPart, Domain: domain, FullName: m.FullName,
		QuotaBytes: m.QuotaBytes, Active: m.Active, StoreMail: m.StoreMail, MaySend: m.MaySend, MayResponder: m.MayResponder,
		MayForward: m.MayForward, Webmail: m.Webmail, Postmaster: m.Postmaster, InDirectory: m.InDirectory, MayEditGAB: m.MayEditGAB, ExpiresAt: utc(m.ExpiresAt),
		ExpireInactiveDays: m.ExpireInactiveDays, ExpireAfterDays: m.ExpireAfterDays, SignInOff: m.SignInOff, LastLoginAt: utc(m.LastLoginAt), CreatedAt: m.CreatedAt.UTC(),
	}
}

// AliasJSON is an alias: local_part@domain delivers to mailbox@domain.
type AliasJSON struct {
	Address   string `json:"address"`
	LocalPart string `json:"local_part"`
	Mailbox   string `json:"mailbox"`
}

// ForwardsJSON is a mailbox's forwards and store-mail switch.
type ForwardsJSON struct {
	Addresses []string `json:"addresses"`
	StoreMail *bool    `json:"store_mail"`
}

// ResponderJSON is a mailbox's autoresponder.
type ResponderJSON struct {
	Enabled      bool    `json:"enabled"`
	Subject      string  `json:"subject"`
	Body         string  `json:"body"`
	Start        *string `json:"start"`
	End          *string `json:"end"`
	IntervalDays int64   `json:"interval_days,omitempty"`
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func timeString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// DKIMKeyJSON is one of a domain's DKIM keys with the TXT record that
// publishes it; the private key is never part of it.
type DKIMKeyJSON struct {
	Selector    string     `json:"selector"`
	Algorithm   string     `json:"algorithm"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at"`
	RetiredAt   *time.Time `json:"retired_at"`
	Record      struct {
		Name    string   `json:"name"`
		Value   string   `json:"value"`
		Strings []string `json:"strings"`
	} `json:"record"`
}

func dkimJSON(keys []tenants.DKIMKeyInfo) map[string][]DKIMKeyJSON {
	out := make([]DKIMKeyJSON, len(keys))
	for i, k := range keys {
		j := DKIMKeyJSON{Selector: k.Selector, Algorithm: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt.UTC(),
			ActivatedAt: utc(k.ActivatedAt), RetiredAt: utc(k.RetiredAt)}
		j.Record.Name, j.Record.Value, j.Record.Strings = k.Record.Name, k.Record.Value, k.Record.Strings
		out[i] = j
	}
	return map[string][]DKIMKeyJSON{"keys": out}
}
