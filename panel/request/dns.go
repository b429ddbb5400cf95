package request

import (
	"context"

	"github.com/postdesk/postdesk/tenants"
)

// DNSChecker looks up what DNS shows for the records a domain should
// publish (mailsvc/msgauth, through the server's one resolver).
type DNSChecker interface {
	CheckDNS(ctx context.Context, recs []tenants.DNSRecord) []tenants.DNSStatus
}
