-- IMAP state beside the message store.
--
-- imap_recent: messages with UID >= first_uid are \Recent (RFC 3501 2.3.2)
-- for the next session that selects the folder read-write, which moves
-- first_uid past them; a folder without a row has every message recent.
CREATE TABLE imap_recent (
    folder_id BIGINT PRIMARY KEY REFERENCES mail_folders(id) ON DELETE CASCADE,
    first_uid BIGINT NOT NULL
);

-- imap_subscriptions: subscribed names, which outlive the folder they name
-- (RFC 3501 6.3.6, RFC 5258 \NonExistent).
CREATE TABLE imap_subscriptions (
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, name)
);
