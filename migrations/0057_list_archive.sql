-- A list's archive: a mailbox of the list's domain that keeps a copy of
-- every post (tenants/list.go); NULL: none.
ALTER TABLE lists ADD COLUMN archive_mailbox_id BIGINT REFERENCES mailboxes(id) ON DELETE SET NULL;
