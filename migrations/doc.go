// Package migrations holds Postdesk's schema as ordered, append-only SQL
// files, embedded in the binary, and applies them to SQLite or PostgreSQL.
//
// A file is named NNNN_what.sql and never edited once released; a change is
// a new file. The SQL is written once for both engines; the few type names
// that differ are spelled as placeholders ({{ID}}, {{TIME}}, {{BLOB}})
// replaced per engine. (goose or golang-migrate would need one copy of every
// file per engine, which is how the two drift apart.)
package migrations
