-- POP3 (RFC 1939) locks a maildrop for the length of a session: a second
-- session on the same mailbox, in this process or another sharing the
-- database, is refused with [IN-USE] (RFC 2449). The lock is a lease the
-- holder renews; one left by a crashed process lapses at expires_at.
CREATE TABLE pop3_locks (
    mailbox_id BIGINT PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at {{TIME}} NOT NULL
);
