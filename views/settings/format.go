package settings

import "strings"

func joinComma(s []string) string { return strings.Join(s, ", ") }

func joinOr(s []string) string { return strings.Join(s, " or ") }
