-- Each hosted domain's own MTA-STS mode (tenants/mtasts.go, RFC 8461):
-- none, testing or enforce; the policy is served at
-- https://mta-sts.DOMAIN/.well-known/mta-sts.txt when it is not none.
ALTER TABLE domains ADD COLUMN mta_sts_mode TEXT NOT NULL DEFAULT 'none';
