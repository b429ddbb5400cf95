-- The system mailbox: postmaster mail that neither the domain (a named
-- postmaster, a catchrest) nor an administrator (the system postmaster)
-- gave a mailbox to. It belongs to no tenant, so no login reaches it; only
-- the administrator's panel lists it. Each row keeps one delivery's blob
-- alive, with the recipient's own header lines (Return-Path, Delivered-To).
CREATE TABLE system_messages (
    id          {{ID}},
    blob_key    TEXT NOT NULL REFERENCES mail_blobs(blob_key),
    prefix      TEXT NOT NULL DEFAULT '',
    size        BIGINT NOT NULL,
    received_at {{TIME}} NOT NULL,
    seen        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX system_messages_received ON system_messages (received_at);
CREATE INDEX system_messages_blob ON system_messages (blob_key);
