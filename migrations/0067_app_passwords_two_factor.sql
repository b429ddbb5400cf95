-- App passwords: a mailbox's extra passwords for mail programs, each named
-- and limited to some protocols (a comma list: imap,pop3,smtp,carddav,ldap).
-- Only the hash is kept; prefix (the first characters of the password,
-- which are random) finds the row without trying every hash.
CREATE TABLE app_passwords (
    id           {{ID}},
    mailbox_id   BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    protocols    TEXT NOT NULL,
    created_at   {{TIME}} NOT NULL,
    last_used_at {{TIME}},
    UNIQUE (mailbox_id, name)
);
CREATE INDEX app_passwords_prefix ON app_passwords (mailbox_id, prefix);

-- Two-factor sign-in (TOTP, RFC 6238) of a mailbox or an administrator:
-- one row per account. confirmed_at is set once the user typed a first
-- code; before that the factor is not on. last_step is the last time step
-- whose code was taken, so that a code is used once.
CREATE TABLE two_factor (
    id           {{ID}},
    mailbox_id   BIGINT UNIQUE REFERENCES mailboxes(id) ON DELETE CASCADE,
    admin_id     BIGINT UNIQUE REFERENCES admins(id) ON DELETE CASCADE,
    totp_secret  TEXT NOT NULL,
    last_step    BIGINT NOT NULL DEFAULT 0,
    confirmed_at {{TIME}},
    created_at   {{TIME}} NOT NULL
);

-- Recovery codes: hashed, each used once.
CREATE TABLE recovery_codes (
    id            {{ID}},
    two_factor_id BIGINT NOT NULL REFERENCES two_factor(id) ON DELETE CASCADE,
    hash          TEXT NOT NULL,
    used_at       {{TIME}}
);
CREATE INDEX recovery_codes_factor ON recovery_codes (two_factor_id);

-- A postmaster may require two factors of the domain's users; the
-- requirement for administrators is the setting require_two_factor_admins.
ALTER TABLE domains ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- A panel session whose password was right but whose second factor is not
-- yet given: it opens only the sign-in's second step.
ALTER TABLE panel_sessions ADD COLUMN second_factor_pending BOOLEAN NOT NULL DEFAULT FALSE;
