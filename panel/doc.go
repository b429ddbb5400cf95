// Package panel holds the echo handlers of the web control panel (system
// admin, domain postmaster, end-user settings, webmail) and the provisioning
// API. Handlers turn HTTP into tenants calls with a Scope built from the
// login; where they need mail services (webmail, the queue page) they declare
// a small interface that cmd/postdesk satisfies with mailsvc. panel never
// imports mailsvc.
package panel
