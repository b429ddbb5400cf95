-- Sieve scripts (RFC 5228) of a mailbox, managed over ManageSieve (RFC
-- 5804): at most one active per mailbox, run at delivery
-- (tenants/sieve.go, mailsvc/delivery/sieve.go).
CREATE TABLE sieve_scripts (
    id         {{ID}},
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    content    TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at {{TIME}} NOT NULL
);
CREATE UNIQUE INDEX sieve_scripts_name ON sieve_scripts (mailbox_id, name);
