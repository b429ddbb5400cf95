package database

import "strings"

// EscapeLike escapes s for a LIKE pattern written with ESCAPE '\', the same
// on SQLite and PostgreSQL: %, _ and \ match themselves.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Contains is the LIKE pattern (with ESCAPE '\') matching any text that
// contains s, lower-cased for comparison with LOWER(column).
func Contains(s string) string { return "%" + EscapeLike(strings.ToLower(s)) + "%" }
