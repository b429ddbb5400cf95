-- Posts to a list held for its moderators (mailsvc/delivery, list_moderate.go):
-- each row keeps the post's blob alive until a moderator approves or
-- rejects it through a signed link, or it expires.
CREATE TABLE list_held (
    id           {{ID}},
    list_id      BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL REFERENCES mail_blobs(blob_key),
    mail_from    TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    size         BIGINT NOT NULL,
    received_at  {{TIME}} NOT NULL,
    expires_at   {{TIME}} NOT NULL
);
CREATE INDEX list_held_list ON list_held (list_id, id);
CREATE INDEX list_held_expires ON list_held (expires_at);
CREATE INDEX list_held_blob ON list_held (blob_key);
