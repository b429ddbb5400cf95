// Package webmail is the end user's mail in the panel: folders, message
// lists, reading (HTML mail sanitised and shown in a sandboxed frame),
// writing, drafts and sending. It works on the message store and the
// submission path through the Mail interface, which cmd/postdesk
// implements over mailsvc; sign-in, sessions, CSRF and the settings pages
// are the panel's own. Every page works without JavaScript.
package webmail

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
)

// Config is what webmail needs besides the panel's Env.
type Config struct {
	Mail Mail
	// MaxMessageBytes bounds a message written here, attachments
	// included, as SMTP's SIZE bounds one submitted; 0: 50 MiB.
	MaxMessageBytes int64
	// HeavyPerUser and HeavyTotal bound the requests that read and parse
	// whole messages (a message shown, its HTML, an attachment, a reply's
	// quote, a body search) running at once for one mailbox and in all;
	// a request past them waits up to HeavyWait, then is refused (429,
	// 503). 0: 2 per mailbox, half the CPUs (at least 2) in all, 5s.
	HeavyPerUser, HeavyTotal int
	HeavyWait                time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// DefaultMaxMessageBytes is the default of Config.MaxMessageBytes.
const DefaultMaxMessageBytes = 50 << 20

// pageSize is the length of a message list page.
const pageSize = 50

type handlers struct {
	*request.Env
	mail  Mail
	cfg   Config
	san   *sanitizer
	limit *heavyLimit
}

// Routes adds the webmail routes to g (mounted at /webmail, behind the
// signed-in mailbox check).
func Routes(g *echo.Group, env *request.Env, cfg Config) {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.HeavyPerUser <= 0 {
		cfg.HeavyPerUser = defaultHeavyPerUser
	}
	if cfg.HeavyTotal <= 0 {
		cfg.HeavyTotal = max(2, runtime.GOMAXPROCS(0)/2)
	}
	if cfg.HeavyWait <= 0 {
		cfg.HeavyWait = defaultHeavyWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := handlers{Env: env, mail: cfg.Mail, cfg: cfg, san: newSanitizer(), limit: newHeavyLimit(cfg.HeavyPerUser, cfg.HeavyTotal, cfg.HeavyWait)}
	g.Use(requireWebmail)
	g.GET("", h.inbox)
	g.GET("/folders", h.folders)
	g.POST("/folders", h.folderCreate)
	g.GET("/f/:folder", h.folderShow)
	g.POST("/f/:folder/bulk", h.bulk)
	g.POST("/f/:folder/empty", h.empty)
	g.POST("/f/:folder/rename", h.folderRename)
	g.POST("/f/:folder/delete", h.folderDelete)
	g.GET("/f/:folder/m/:uid", h.messageShow)
	g.GET("/f/:folder/m/:uid/html", h.messageHTML)
	g.GET("/f/:folder/m/:uid/raw", h.messageRaw)
	g.GET("/f/:folder/m/:uid/part/:part", h.messagePart)
	g.GET("/compose", h.composeForm)
	g.POST("/compose", h.composeSubmit)
	g.GET("/directory", h.directory)
	g.GET("/contacts", h.contacts)
	g.GET("/contacts/export", h.contactsExport)
	g.POST("/contacts/add", h.contactAdd)
	g.POST("/contacts/delete", h.contactDelete)
	g.POST("/contacts/copy", h.contactCopy)
	g.POST("/contacts/books", h.bookCreate)
	g.POST("/contacts/share", h.bookShare)
	g.POST("/contacts/unshare", h.bookUnshare)
	g.POST("/contacts/domain-read", h.bookDomainRead)
}

// UploadLimit is the largest request body the compose form may send:
// the message limit for its files, and room for the fields.
func UploadLimit(maxMessage int64) int64 {
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessageBytes
	}
	return maxMessage + 1<<20
}

// requireWebmail lets through mailboxes whose webmail login is allowed;
// postmasters without it keep their domain pages only.
func requireWebmail(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := request.IdentityOf(c)
		if id == nil || id.Login.Mailbox == nil || !id.Login.Mailbox.Webmail {
			return request.Refuse(http.StatusForbidden, "This account may not use webmail.")
		}
		return next(c)
	}
}

// account is the signed-in mailbox as webmail uses it.
type account struct {
	id        *request.Identity
	mailboxID int64
	quota     int64
}

func accountOf(c echo.Context) account {
	id := request.IdentityOf(c)
	return account{id: id, mailboxID: id.Login.Mailbox.ID, quota: tenants.EffectiveQuota(id.Login.Mailbox, id.Login.Domain)}
}

// folderParam parses :folder; a malformed one is "not found".
func folderParam(c echo.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("folder"), 10, 64)
	if err != nil || n <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return n, nil
}

// uidParam parses :uid; a malformed one is "not found".
func uidParam(c echo.Context) (uint32, error) {
	n, err := strconv.ParseUint(c.Param("uid"), 10, 32)
	if err != nil || n == 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return uint32(n), nil
}

// walker walks a message of the signed-in mailbox through the store
// (Mail.Walk).
func (h handlers) walker(ctx context.Context, acct account, folderID int64, uid uint32) walkFunc {
	return func(visit func(h textproto.Header, body io.Reader) error) (textproto.Header, error) {
		top, err := h.mail.Walk(ctx, acct.mailboxID, folderID, uid, visit)
		return top, mailError(err)
	}
}
