-- Mailing lists (tenants/list.go). A list's address is one of its
-- domain's addresses: tenants.checkFree refuses a mailbox or alias at it,
-- or at its command addresses (LOCAL-subscribe, LOCAL-unsubscribe,
-- LOCAL-owner, LOCAL-bounces, LOCAL-confirm), and a list at any address
-- already taken.
CREATE TABLE lists (
    id                  {{ID}},
    domain_id           BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    local_part          TEXT NOT NULL,
    kind                TEXT NOT NULL,
    non_members         TEXT NOT NULL DEFAULT 'refuse',
    bounce_threshold    BIGINT NOT NULL DEFAULT 5,
    bounce_period_days  BIGINT NOT NULL DEFAULT 30,
    created_at          {{TIME}} NOT NULL,
    UNIQUE (domain_id, local_part)
);

-- One row per address a list knows: a member (receives posts), an owner,
-- a moderator, or several of these. Paused members receive nothing until
-- they resume; disabled ones were turned off by bounces.
CREATE TABLE list_members (
    id          {{ID}},
    list_id     BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    member      BOOLEAN NOT NULL DEFAULT FALSE,
    owner       BOOLEAN NOT NULL DEFAULT FALSE,
    moderator   BOOLEAN NOT NULL DEFAULT FALSE,
    paused      BOOLEAN NOT NULL DEFAULT FALSE,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  {{TIME}} NOT NULL,
    UNIQUE (list_id, address)
);

-- Subscription and unsubscription requests waiting for their confirmation
-- (double opt-in), kept after use as the count for the limits per address
-- and per source. Only a hash of the token is stored.
CREATE TABLE list_requests (
    id          {{ID}},
    list_id     BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    action      TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    source      TEXT NOT NULL,
    created_at  {{TIME}} NOT NULL,
    expires_at  {{TIME}} NOT NULL,
    used        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX list_requests_address ON list_requests (list_id, address, created_at);
CREATE INDEX list_requests_source ON list_requests (source, created_at);

-- Hard bounces per member, counted within the list's bounce period.
CREATE TABLE list_bounces (
    id          {{ID}},
    member_id   BIGINT NOT NULL REFERENCES list_members(id) ON DELETE CASCADE,
    at          {{TIME}} NOT NULL
);
CREATE INDEX list_bounces_member ON list_bounces (member_id, at);

-- The secret of tenants' token signer (signer.go): made at first use, the
-- same for every process.
CREATE TABLE signing_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
