-- Message expiry: days a folder keeps messages, by folder name. A row with
-- mailbox_id 0 is the domain's default (set by its postmaster); a
-- mailbox's own row overrides it (days 0: keep). A domain's users change
-- their own only when users_set_retention is on.
CREATE TABLE retention_rules (
    id          {{ID}},
    domain_id   BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    mailbox_id  BIGINT NOT NULL DEFAULT 0,
    folder      TEXT NOT NULL,
    days        BIGINT NOT NULL,
    UNIQUE (domain_id, mailbox_id, folder)
);
CREATE INDEX retention_rules_mailbox ON retention_rules (mailbox_id);
ALTER TABLE domains ADD COLUMN users_set_retention BOOLEAN NOT NULL DEFAULT FALSE;

-- The expiry job's lease, so that one process of several runs it at a
-- time (as the outbound queue leases its messages).
CREATE TABLE retention_job (
    name        TEXT PRIMARY KEY,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until {{TIME}},
    last_run_at {{TIME}}
);
INSERT INTO retention_job (name) VALUES ('expire');
