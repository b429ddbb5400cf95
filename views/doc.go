// Package views holds the templ components of the panel and webmail. Each
// component takes a plain view-model struct declared beside it, with fields
// already formatted; views never touch the database.
package views
