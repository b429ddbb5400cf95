// Package tenants is Postdesk's tenant model and every rule about it:
// domains and alias domains, mailboxes, aliases, the catchrest account,
// forwards with the "store mail" switch, autoresponders, quotas, system
// administrators, API keys, the audit log, and the two resolutions every
// protocol server uses, ResolveLogin and ResolveRecipient.
//
// Every method takes a context and a Scope; the Scope is applied to queries
// in one place (scope.go), so that a postmaster of one domain never reads or
// changes another domain's rows. The CLI acts with SystemScope.
package tenants
