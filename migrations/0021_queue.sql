-- The outbound queue: per message its blob, envelope sender and lease; per
-- recipient its state (attempts, next attempt, last error, remote host and
-- reply). A worker owns a message while its lease runs (lease_owner,
-- lease_until), so several processes share the queue without sending a
-- message twice. Delivered and failed recipients are deleted; failures are
-- kept in queue_failures for the failure report.

CREATE TABLE queue_messages (
    id              {{ID}},
    blob_key        TEXT NOT NULL REFERENCES mail_blobs(blob_key),
    prefix          TEXT NOT NULL DEFAULT '',
    mail_from       TEXT NOT NULL DEFAULT '',
    mailbox_id      BIGINT NOT NULL DEFAULT 0,
    domain_id       BIGINT NOT NULL DEFAULT 0,
    kind            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    created_at      {{TIME}} NOT NULL,
    next_attempt_at {{TIME}} NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     {{TIME}}
);
CREATE INDEX queue_messages_next ON queue_messages (next_attempt_at);
CREATE INDEX queue_messages_blob ON queue_messages (blob_key);
CREATE INDEX queue_messages_domain ON queue_messages (domain_id);

CREATE TABLE queue_recipients (
    id              {{ID}},
    message_id      BIGINT NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
    rcpt            TEXT NOT NULL,
    domain          TEXT NOT NULL,
    is_local        BOOLEAN NOT NULL DEFAULT FALSE,
    notify          BOOLEAN NOT NULL DEFAULT TRUE,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at {{TIME}} NOT NULL,
    last_attempt_at {{TIME}},
    last_error      TEXT NOT NULL DEFAULT '',
    remote_host     TEXT NOT NULL DEFAULT '',
    remote_reply    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX queue_recipients_message ON queue_recipients (message_id);

-- Recipients the queue gave up on, for the failure report; pruned after
-- 30 days.
CREATE TABLE queue_failures (
    id          {{ID}},
    queue_id    BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    mail_from   TEXT NOT NULL DEFAULT '',
    rcpt        TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL,
    remote_host TEXT NOT NULL DEFAULT '',
    attempts    BIGINT NOT NULL DEFAULT 0,
    domain_id   BIGINT NOT NULL DEFAULT 0,
    failed_at   {{TIME}} NOT NULL,
    reported_at {{TIME}}
);
CREATE INDEX queue_failures_failed ON queue_failures (failed_at);

-- Static routes per destination domain; password_enc is AES-GCM sealed
-- with the key file in the data folder.
CREATE TABLE queue_routes (
    domain       TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    port         BIGINT NOT NULL,
    implicit_tls BOOLEAN NOT NULL DEFAULT FALSE,
    username     TEXT NOT NULL DEFAULT '',
    password_enc TEXT NOT NULL DEFAULT '',
    updated_at   {{TIME}} NOT NULL
);

-- The Delivery Options: one row (id 1), the settings as JSON (secrets
-- sealed), and the failure report's schedule, advanced with report_seq as
-- a compare-and-swap so that one process sends each report.
CREATE TABLE queue_settings (
    id             BIGINT PRIMARY KEY,
    value          TEXT NOT NULL,
    last_report_at {{TIME}},
    report_seq     BIGINT NOT NULL DEFAULT 0,
    updated_at     {{TIME}} NOT NULL
);
