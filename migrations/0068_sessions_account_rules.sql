-- Where a mailbox logged in from, per protocol and address: one row each,
-- its first and last time and a count, so that a client polling every
-- minute adds no rows. Rows unseen for 30 days are dropped on the way.
CREATE TABLE login_seen (
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    protocol    TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    first_at    {{TIME}} NOT NULL,
    last_at     {{TIME}} NOT NULL,
    logins      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, protocol, remote_addr)
);

-- A user who ends their mail programs' sessions: protocol sessions that
-- logged in before this end (the SessionWatch reads it).
ALTER TABLE mailboxes ADD COLUMN sessions_ended_at {{TIME}};

-- A mailbox that still takes mail but whose sign-in is off (a leaver):
-- no login, on any protocol or the panel.
ALTER TABLE mailboxes ADD COLUMN sign_in_off BOOLEAN NOT NULL DEFAULT FALSE;

-- Account expiry N days after creation (0: never), beside expires_at and
-- expire_inactive_days.
ALTER TABLE mailboxes ADD COLUMN expire_after_days BIGINT NOT NULL DEFAULT 0;

-- A domain whose users may not change their own password (the panel's
-- "users may change their own password" switch, off).
ALTER TABLE domains ADD COLUMN password_change_off BOOLEAN NOT NULL DEFAULT FALSE;
