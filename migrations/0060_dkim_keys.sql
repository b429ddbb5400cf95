-- DKIM signing keys of a domain (tenants/dkim.go): one row per key, each
-- under a selector of its own. The private key is sealed with the data
-- folder's key file (never stored in the clear, never shown); the public
-- key is what the domain's TXT record publishes. state: pending (made,
-- waiting for DNS to show it), active (signs), retired (replaced; its
-- record stays published for a grace period so that mail in flight still
-- verifies).
CREATE TABLE dkim_keys (
    id           {{ID}},
    domain_id    BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    selector     TEXT NOT NULL,
    algorithm    TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   {{TIME}} NOT NULL,
    activated_at {{TIME}},
    retired_at   {{TIME}}
);
CREATE UNIQUE INDEX dkim_keys_selector ON dkim_keys (domain_id, selector);
CREATE INDEX dkim_keys_state ON dkim_keys (state);
