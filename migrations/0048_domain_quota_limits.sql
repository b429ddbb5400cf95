-- What an administrator allots a domain's postmasters: the largest quota
-- they may give one mailbox, and the total of the quotas of all its
-- mailboxes. 0: not set (the per-mailbox maximum is then the domain's
-- default quota; no total). Administrators themselves may set anything.
ALTER TABLE domains ADD COLUMN max_mailbox_quota BIGINT NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN storage_total BIGINT NOT NULL DEFAULT 0;
