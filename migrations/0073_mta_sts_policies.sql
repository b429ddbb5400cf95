-- MTA-STS policies of the domains mail is sent to (mailsvc/mtasts, RFC
-- 8461 5.1), kept for their max_age so that every process sharing the
-- database fetches a policy once. mx holds the policy's patterns, one a
-- line.
CREATE TABLE mta_sts_policies (
    domain     TEXT NOT NULL PRIMARY KEY,
    policy_id  TEXT NOT NULL,
    mode       TEXT NOT NULL,
    mx         TEXT NOT NULL,
    max_age    BIGINT NOT NULL,
    fetched_at {{TIME}} NOT NULL,
    expires_at {{TIME}} NOT NULL
);
