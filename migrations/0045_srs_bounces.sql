-- Bounces returned through an SRS address (mailsvc/delivery): one row per
-- bounce sent on, for the cap per SRS address and day. Rows older than a
-- day are removed as new ones are written.
CREATE TABLE srs_bounces (
    id          {{ID}},
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    at          {{TIME}} NOT NULL
);
CREATE INDEX srs_bounces_address ON srs_bounces (address, at);
CREATE INDEX srs_bounces_mailbox ON srs_bounces (mailbox_id, at);
