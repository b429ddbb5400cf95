-- Mail flow: what submission and delivery keep in the database.

-- One row per accepted submission, for the outbound rate limits per mailbox
-- and per domain (sliding hour and day). Rows older than a day are removed.
CREATE TABLE submission_log (
    id          {{ID}},
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    domain_id   BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    rcpts       INTEGER NOT NULL,
    at          {{TIME}} NOT NULL
);
CREATE INDEX submission_log_mailbox ON submission_log (mailbox_id, at);
CREATE INDEX submission_log_domain ON submission_log (domain_id, at);

-- Secrets mail services share across processes and restarts (the SRS key),
-- made at first use.
CREATE TABLE mail_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
