package smtpd

import (
	"strings"

	"github.com/emersion/go-smtp"
)

func reply(code int, a, b, c int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{a, b, c}, Message: msg}
}

// Replies, with the RFC 3463 enhanced codes. Texts are generic: what went
// wrong in detail is logged, never told to the client.
var (
	errTempFailure  = reply(451, 4, 3, 0, "Temporary failure, try again later")
	errLowDisk      = reply(452, 4, 3, 1, "Insufficient system storage, try again later")
	errShuttingDown = reply(421, 4, 3, 2, "Service shutting down, try again later")
	errRelayDenied  = reply(550, 5, 7, 1, "Relaying denied")
	errNoSuchUser   = reply(550, 5, 1, 1, "No such user here")
	errDisabled     = reply(550, 5, 2, 1, "Mailbox disabled")
	errMailboxFull  = reply(452, 4, 2, 2, "Mailbox full, try again later")
	errTooBigForBox = reply(552, 5, 2, 2, "Message exceeds the mailbox's storage allocation")
	errLoop         = reply(554, 5, 4, 6, "Mail loop detected")
	// RFC 7489 10.3: a DMARC rejection is 550 5.7.1 after DATA.
	errDMARCReject   = reply(550, 5, 7, 1, "Message refused by the sender domain's DMARC policy")
	errNeedUTF8      = reply(553, 5, 6, 7, "Non-ASCII address requires SMTPUTF8")
	errRcptSyntax    = reply(501, 5, 1, 3, "Bad recipient address syntax")
	errRcptTooLong   = reply(553, 5, 1, 3, "Recipient local part too long")
	errPathTooLong   = reply(501, 5, 5, 2, "Path too long")
	errSenderSyntax  = reply(501, 5, 1, 7, "Bad sender address syntax")
	errSenderTooLong = reply(553, 5, 1, 7, "Sender local part too long")
	errAuthRequired  = reply(530, 5, 7, 0, "Authentication required")
	errNeedTLS       = reply(530, 5, 7, 0, "Must issue a STARTTLS command first")
	errAuthFailed    = reply(535, 5, 7, 8, "Authentication failed")
	errAuthTemp      = reply(454, 4, 7, 0, "Temporary authentication failure")
	errAuthLocked    = reply(421, 4, 7, 0, "Too many failed logins, try again later")
	errMaySend       = reply(550, 5, 7, 1, "This account may not send mail")
	errNotYourSender = reply(553, 5, 7, 1, "Sender address not owned by the authenticated user")
	errNotYourFrom   = reply(550, 5, 7, 1, "From header address not owned by the authenticated user")
	errNoFrom        = reply(550, 5, 6, 0, "Message has no From header")
	errRateLimited   = reply(451, 4, 7, 1, "Sending rate limit reached, try again later")
	// Greylisting (mailsvc/greylist): a new client network, sender and
	// recipient retries later.
	errGreylisted = reply(451, 4, 7, 1, "Greylisted, try again later")
	// rspamd's verdicts (data.go, scan).
	errSpamReject      = reply(554, 5, 7, 1, "Message refused as spam")
	errSpamLater       = reply(451, 4, 7, 1, "Message deferred by the spam filter, try again later")
	errSpamUnavailable = reply(451, 4, 7, 0, "Spam filter unavailable, try again later")
	errNoQueue         = reply(451, 4, 4, 0, "Remote delivery unavailable, try again later")
	errRcptFailures    = reply(421, 4, 7, 0, "Too many refused recipients, closing connection")
	// An SRS address takes bounces only (mailsvc/delivery, bounce.go).
	errSRSRefused    = reply(550, 5, 7, 1, "Bounce address expired or no longer valid")
	errNotABounce    = reply(550, 5, 7, 1, "Only delivery status notifications are accepted for this address")
	errBounceTooBig  = reply(552, 5, 3, 4, "Bounce too big for this address")
	errBounceLimited = reply(451, 4, 7, 1, "Too many bounces for this address, try again later")
)

// errUnqualified refuses a path whose domain has no dot (root@vm): valid
// syntax (RFC 5321 4.1.2), so not 501, but no mail domain. The answer names
// the rule as Postfix's reject_non_fqdn_sender and _recipient do: 504
// 5.5.2, the parameter not implemented here. The path, already bounded to
// 256 octets by the parser, is echoed with control characters masked.
func errUnqualified(path, role string) *smtp.SMTPError {
	path = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, path)
	return reply(504, 5, 5, 2, "<"+path+">: "+role+" address rejected: need fully-qualified address")
}

// errNotListPoster: the sender may not post to the list (RFC 3463 5.7.1,
// delivery.ErrNotListPoster).
var errNotListPoster = reply(550, 5, 7, 1, "You may not post to this list")
