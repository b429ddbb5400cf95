package views

import "testing"

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"wrong user name or password":        "Wrong user name or password.",
		"ärger: must not be empty":           "Ärger: must not be empty.",
		"Already a sentence.":                "Already a sentence.",
		"use a date such as 2026-12-24":      "Use a date such as 2026-12-24.",
		`address "sales": missing @domain`:   `Address "sales": missing @domain.`,
		"  ":                                 "",
		"nosuch@a.test is not a mailbox":     "nosuch@a.test is not a mailbox.",
		"a.test: taken":                      "a.test: taken.",
		"too many failed logins; try later?": "Too many failed logins; try later?",
	} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
