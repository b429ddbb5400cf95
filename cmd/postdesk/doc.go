// Command postdesk is the one Postdesk binary: the server (serve) and the
// command line that hosting providers script against. Every command works
// on the same database as serve (same flags and environment) and brings the
// schema up to date before it runs.
//
// main.go dispatches the commands and describes errors; config.go holds the
// flags and environment; cli_*.go the provisioning commands; serve.go and
// wire_*.go build the servers and connect the packages: tenants, the
// message store and mail servers of mailsvc, and the panel.
package main
