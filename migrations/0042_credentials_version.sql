-- A credentials version on every account, moved on by each password change
-- or imported hash (never by the automatic rehash at login, which keeps the
-- same password). A panel session keeps the version it was signed in with
-- and ends when the account's differs: a reset password signs out whoever
-- signed in with the old one.
ALTER TABLE mailboxes ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE admins ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE panel_sessions ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;
