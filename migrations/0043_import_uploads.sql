-- CSV files of a bulk import, kept between their preview and their
-- confirmation (at most 30 minutes), for the panel session that uploaded
-- them: the confirmation form carries only a random token, never the file
-- with its passwords. id_hash is the token's SHA-256; data is the file
-- sealed with a key derived from the token, so a copy of the database
-- opens none of them.
CREATE TABLE import_uploads (
    id_hash      TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    domain       TEXT NOT NULL,
    template     TEXT NOT NULL DEFAULT '',
    data         {{BLOB}} NOT NULL,
    created_at   {{TIME}} NOT NULL,
    expires_at   {{TIME}} NOT NULL
);
CREATE INDEX import_uploads_expires ON import_uploads (expires_at);
CREATE INDEX import_uploads_session ON import_uploads (session_hash);
