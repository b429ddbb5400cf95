-- Contacts and directories (issue 14). The local directory is derived from
-- mailboxes and addresses; these columns only say what it shows.
-- in_directory: the postmaster's "show in directory" switch, per mailbox and
-- per alias address. may_edit_gab: the mailbox may edit its domain's global
-- address book (postmasters always may).
ALTER TABLE mailboxes ADD COLUMN in_directory BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE mailboxes ADD COLUMN may_edit_gab BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE addresses ADD COLUMN in_directory BOOLEAN NOT NULL DEFAULT TRUE;

-- An address book: a user's own (owner_mailbox_id set) or the domain's
-- global address book (owner_mailbox_id NULL, slug 'gab'). sync_seq counts
-- its changes; each contact and tombstone carries the count of its last
-- change, which is what a sync token names (RFC 6578).
CREATE TABLE address_books (
    id               {{ID}},
    domain_id        BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    owner_mailbox_id BIGINT REFERENCES mailboxes(id) ON DELETE CASCADE,
    slug             TEXT NOT NULL,
    name             TEXT NOT NULL,
    domain_read      BOOLEAN NOT NULL DEFAULT FALSE,
    sync_seq         BIGINT NOT NULL DEFAULT 0,
    created_at       {{TIME}} NOT NULL
);
CREATE UNIQUE INDEX address_books_slug ON address_books (domain_id, COALESCE(owner_mailbox_id, 0), slug);

-- A book shared with a named user of the same domain.
CREATE TABLE address_book_shares (
    book_id    BIGINT NOT NULL REFERENCES address_books(id) ON DELETE CASCADE,
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    may_write  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (book_id, mailbox_id)
);
CREATE INDEX address_book_shares_mailbox ON address_book_shares (mailbox_id);

-- A contact: the vCard as received, and the fields searches and LDAP use.
-- emails and phones hold every value, one per line, emails lower case.
CREATE TABLE contacts (
    id          {{ID}},
    book_id     BIGINT NOT NULL REFERENCES address_books(id) ON DELETE CASCADE,
    href        TEXT NOT NULL,
    uid         TEXT NOT NULL,
    etag        TEXT NOT NULL,
    vcard       TEXT NOT NULL,
    full_name   TEXT NOT NULL DEFAULT '',
    family_name TEXT NOT NULL DEFAULT '',
    given_name  TEXT NOT NULL DEFAULT '',
    emails      TEXT NOT NULL DEFAULT '',
    phones      TEXT NOT NULL DEFAULT '',
    org         TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    seq         BIGINT NOT NULL,
    updated_at  {{TIME}} NOT NULL,
    UNIQUE (book_id, href),
    UNIQUE (book_id, uid)
);
CREATE INDEX contacts_book_seq ON contacts (book_id, seq);

-- What sync-collection reports as deleted.
CREATE TABLE contact_tombstones (
    book_id BIGINT NOT NULL REFERENCES address_books(id) ON DELETE CASCADE,
    href    TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (book_id, href)
);
