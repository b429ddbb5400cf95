-- Panel sign-in sessions, shared by every Postdesk process on one database.
-- The cookie holds a random id; only its SHA-256 is stored here.
CREATE TABLE panel_sessions (
    id_hash     TEXT PRIMARY KEY,
    admin_id    BIGINT NOT NULL DEFAULT 0,
    mailbox_id  BIGINT NOT NULL DEFAULT 0,
    csrf        TEXT NOT NULL,
    flash       TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    created_at  {{TIME}} NOT NULL,
    expires_at  {{TIME}} NOT NULL
);
CREATE INDEX panel_sessions_expires ON panel_sessions (expires_at);
