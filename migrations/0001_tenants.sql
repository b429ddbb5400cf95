-- The tenant model: domains, mailboxes and their addresses, forwards,
-- responders, administrators, API keys, the login throttle and the audit log.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE domains (
    id                   {{ID}},
    name                 TEXT NOT NULL UNIQUE,
    description          TEXT NOT NULL DEFAULT '',
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    max_mailboxes        BIGINT NOT NULL DEFAULT 0,
    max_aliases          BIGINT NOT NULL DEFAULT 0,
    default_quota        BIGINT NOT NULL DEFAULT 0,
    alias_of_id          BIGINT REFERENCES domains(id) ON DELETE RESTRICT,
    postmaster_mailbox_id BIGINT,
    created_at           {{TIME}} NOT NULL,
    updated_at           {{TIME}} NOT NULL
);

CREATE TABLE mailboxes (
    id                   {{ID}},
    domain_id            BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    local_part           TEXT NOT NULL,
    full_name            TEXT NOT NULL DEFAULT '',
    password_hash        TEXT NOT NULL,
    quota_bytes          BIGINT NOT NULL DEFAULT 0,
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    store_mail           BOOLEAN NOT NULL DEFAULT TRUE,
    may_send             BOOLEAN NOT NULL DEFAULT TRUE,
    may_responder        BOOLEAN NOT NULL DEFAULT TRUE,
    may_forward          BOOLEAN NOT NULL DEFAULT TRUE,
    webmail              BOOLEAN NOT NULL DEFAULT TRUE,
    postmaster           BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at           {{TIME}},
    expire_inactive_days BIGINT NOT NULL DEFAULT 0,
    last_login_at        {{TIME}},
    created_at           {{TIME}} NOT NULL,
    updated_at           {{TIME}} NOT NULL,
    UNIQUE (domain_id, local_part)
);
CREATE INDEX mailboxes_domain_name ON mailboxes (domain_id, full_name);

-- Every address the system answers for, mailbox or alias, is one row here,
-- so that the database itself refuses an address used twice.
CREATE TABLE addresses (
    id          {{ID}},
    domain_id   BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    local_part  TEXT NOT NULL,
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    is_alias    BOOLEAN NOT NULL,
    created_at  {{TIME}} NOT NULL,
    UNIQUE (domain_id, local_part)
);
CREATE INDEX addresses_mailbox ON addresses (mailbox_id);

CREATE TABLE forwards (
    id          {{ID}},
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    UNIQUE (mailbox_id, address)
);

CREATE TABLE responders (
    mailbox_id    BIGINT PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    enabled       BOOLEAN NOT NULL DEFAULT FALSE,
    subject       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    starts_at     {{TIME}},
    ends_at       {{TIME}},
    interval_days BIGINT NOT NULL DEFAULT 7,
    updated_at    {{TIME}} NOT NULL
);

-- When a responder last answered a sender (RFC 3834 section 2: at most once
-- per sender per interval).
CREATE TABLE responder_replies (
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    sender      TEXT NOT NULL,
    sent_at     {{TIME}} NOT NULL,
    PRIMARY KEY (mailbox_id, sender)
);

CREATE TABLE admins (
    id            {{ID}},
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    last_login_at {{TIME}},
    created_at    {{TIME}} NOT NULL
);

CREATE TABLE api_keys (
    id           {{ID}},
    prefix       TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL,
    domain_id    BIGINT REFERENCES domains(id) ON DELETE CASCADE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   {{TIME}} NOT NULL,
    last_used_at {{TIME}}
);

-- Login throttle state, shared by every protocol and process: one row per
-- account and one per remote address.
CREATE TABLE login_failures (
    throttle_key TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL DEFAULT 0,
    last_at      {{TIME}} NOT NULL,
    locked_until {{TIME}}
);

CREATE TABLE audit_log (
    id          {{ID}},
    at          {{TIME}} NOT NULL,
    actor       TEXT NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT '',
    domain_id   BIGINT,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_domain_at ON audit_log (domain_id, at);
