-- Greylisting triplets (mailsvc/greylist): a client network (IPv4 /24,
-- IPv6 /64), an envelope sender and a recipient; passed once the sender
-- retried after the delay, remembered for 36 days. Shared through the
-- database by every process.
CREATE TABLE greylist (
    id         {{ID}},
    network    TEXT NOT NULL,
    sender     TEXT NOT NULL,
    rcpt       TEXT NOT NULL,
    first_seen {{TIME}} NOT NULL,
    passed     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at {{TIME}} NOT NULL
);
CREATE UNIQUE INDEX greylist_triplet ON greylist (network, sender, rcpt);
CREATE INDEX greylist_updated ON greylist (updated_at);
