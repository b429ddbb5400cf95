-- The message store: per mailbox its folders; per message its folder, UID,
-- flags, dates and the blob holding its body. A blob is shared by every
-- local recipient of one delivery; what differs per recipient
-- (Return-Path, Delivered-To) is the message row's prefix.

CREATE TABLE mail_folders (
    id             {{ID}},
    mailbox_id     BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    special_use    TEXT NOT NULL DEFAULT '',
    subscribed     BOOLEAN NOT NULL DEFAULT TRUE,
    uid_validity   BIGINT NOT NULL,
    uid_next       BIGINT NOT NULL DEFAULT 1,
    highest_modseq BIGINT NOT NULL DEFAULT 1,
    created_at     {{TIME}} NOT NULL,
    UNIQUE (mailbox_id, name)
);

-- One row per stored body, with what IMAP FETCH and the webmail list need,
-- parsed once at delivery: header block, envelope and body structure (JSON),
-- and the fields lists sort and search on.
CREATE TABLE mail_blobs (
    blob_key    TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    header      TEXT NOT NULL DEFAULT '',
    envelope    TEXT NOT NULL DEFAULT '',
    structure   TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    from_addr   TEXT NOT NULL DEFAULT '',
    to_addr     TEXT NOT NULL DEFAULT '',
    cc_addr     TEXT NOT NULL DEFAULT '',
    message_id  TEXT NOT NULL DEFAULT '',
    sent_at     {{TIME}},
    has_attachments BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  {{TIME}} NOT NULL
);

CREATE TABLE mail_messages (
    id            {{ID}},
    folder_id     BIGINT NOT NULL REFERENCES mail_folders(id) ON DELETE CASCADE,
    mailbox_id    BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           BIGINT NOT NULL,
    modseq        BIGINT NOT NULL,
    seen          BOOLEAN NOT NULL DEFAULT FALSE,
    answered      BOOLEAN NOT NULL DEFAULT FALSE,
    flagged       BOOLEAN NOT NULL DEFAULT FALSE,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    draft         BOOLEAN NOT NULL DEFAULT FALSE,
    keywords      TEXT NOT NULL DEFAULT '',
    internal_date {{TIME}} NOT NULL,
    size          BIGINT NOT NULL,
    blob_key      TEXT NOT NULL REFERENCES mail_blobs(blob_key),
    prefix        TEXT NOT NULL DEFAULT '',
    UNIQUE (folder_id, uid)
);
CREATE INDEX mail_messages_mailbox ON mail_messages (mailbox_id);
CREATE INDEX mail_messages_folder_modseq ON mail_messages (folder_id, modseq);
CREATE INDEX mail_messages_folder_date ON mail_messages (folder_id, internal_date);
CREATE INDEX mail_messages_blob ON mail_messages (blob_key);

-- Expunged UIDs with the modseq of their removal, so that other sessions
-- (also in other processes) learn of them.
CREATE TABLE mail_expunged (
    folder_id BIGINT NOT NULL REFERENCES mail_folders(id) ON DELETE CASCADE,
    uid       BIGINT NOT NULL,
    modseq    BIGINT NOT NULL,
    PRIMARY KEY (folder_id, uid)
);
CREATE INDEX mail_expunged_modseq ON mail_expunged (folder_id, modseq);

-- Stored bytes and messages per mailbox, kept in the same transaction as
-- every change, for quota checks without summing.
CREATE TABLE mail_usage (
    mailbox_id BIGINT PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    bytes      BIGINT NOT NULL DEFAULT 0,
    messages   BIGINT NOT NULL DEFAULT 0
);
