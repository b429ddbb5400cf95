// Package mailsvc and its subpackages speak the mail protocols (SMTP, IMAP,
// POP3), store messages (metadata in the database, bodies in a blob store),
// deliver them locally and queue them for remote hosts. They ask tenants who a
// recipient or a login is; they never import panel.
package mailsvc
