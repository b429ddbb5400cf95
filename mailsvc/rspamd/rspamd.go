// Package rspamd scans messages with rspamd over its HTTP protocol
// (rspamd's /checkv2: the message as the body, the envelope in headers,
// a JSON answer with the action, score and symbols).
package rspamd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Actions rspamd answers (its metric actions).
const (
	ActionNone          = "no action"
	ActionGreylist      = "greylist"
	ActionAddHeader     = "add header"
	ActionRewriteSubect = "rewrite subject"
	ActionSoftReject    = "soft reject"
	ActionReject        = "reject"
)

// maxAnswer bounds what is read of an answer: rspamd's with every symbol
// is a few KiB; a server sending more is not rspamd.
const maxAnswer = 1 << 20

// Client talks to one rspamd normal worker.
type Client struct {
	url     string
	timeout time.Duration
	http    *http.Client
	// unscanned counts messages accepted without a verdict (rspamd down,
	// slow, or answering garbage).
	unscanned atomic.Int64
}

// New returns a client of the rspamd at url (http://127.0.0.1:11333);
// each scan takes at most timeout (default 20s).
func New(url string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	return &Client{url: strings.TrimRight(url, "/"), timeout: timeout, http: &http.Client{}}
}

// Envelope is what rspamd is told of a message besides its text.
type Envelope struct {
	IP    string   // the client's address
	HELO  string   // its EHLO name
	From  string   // envelope sender, "" for the null sender
	Rcpts []string // envelope recipients
	User  string   // the authenticated user, if any
	ID    string   // the transaction's id, for rspamd's log
}

// Result is rspamd's verdict.
type Result struct {
	Action        string
	Score         float64
	RequiredScore float64
	Symbols       []string // names, sorted
	// Message is rspamd's text for a rejection (smtp_message), if any.
	Message string
}

type answer struct {
	Action        *string                    `json:"action"`
	Score         float64                    `json:"score"`
	RequiredScore float64                    `json:"required_score"`
	Symbols       map[string]json.RawMessage `json:"symbols"`
	Messages      struct {
		SMTP string `json:"smtp_message"`
	} `json:"messages"`
}

// ErrUnavailable wraps every failure to get a verdict.
var ErrUnavailable = errors.New("rspamd unavailable")

// Check scans a message of size bytes. An error wraps ErrUnavailable.
func (c *Client) Check(ctx context.Context, env Envelope, msg io.Reader, size int64) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/checkv2", msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.ContentLength = size
	if env.IP != "" {
		req.Header.Set("IP", env.IP)
	}
	if env.HELO != "" {
		req.Header.Set("Helo", env.HELO)
	}
	if env.From != "" {
		req.Header.Set("From", env.From)
	}
	for _, r := range env.Rcpts {
		req.Header.Add("Rcpt", r)
	}
	if env.User != "" {
		req.Header.Set("User", env.User)
	}
	if env.ID != "" {
		req.Header.Set("Queue-Id", env.ID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %d", ErrUnavailable, resp.StatusCode)
	}
	var a answer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&a); err != nil {
		return nil, fmt.Errorf("%w: answer: %v", ErrUnavailable, err)
	}
	if a.Action == nil {
		return nil, fmt.Errorf("%w: answer without an action", ErrUnavailable)
	}
	switch *a.Action {
	case ActionNone, ActionGreylist, ActionAddHeader, ActionRewriteSubect, ActionSoftReject, ActionReject:
	default:
		return nil, fmt.Errorf("%w: unknown action %q", ErrUnavailable, *a.Action)
	}
	r := &Result{Action: *a.Action, Score: a.Score, RequiredScore: a.RequiredScore, Message: a.Messages.SMTP}
	for name := range a.Symbols {
		// Names go into a header field: only what rspamd's names are
		// made of (a hostile answer could hold a line break).
		if name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == "" {
			r.Symbols = append(r.Symbols, name)
		}
	}
	sort.Strings(r.Symbols)
	return r, nil
}

// Unscanned counts a message accepted without a verdict, and returns the
// count so far (for the log line that says so).
func (c *Client) Unscanned() int64 { return c.unscanned.Add(1) }

// UnscannedCount is the number of messages accepted without a verdict
// since the process started.
func (c *Client) UnscannedCount() int64 { return c.unscanned.Load() }

// Headers are the header fields a scanned message is stored with, above
// it: the score, the verdict and the symbols, one line each kept short.
func (r *Result) Headers() string {
	spam := "No"
	if r.Action == ActionAddHeader || r.Action == ActionRewriteSubect {
		spam = "Yes"
	}
	syms := strings.Join(r.Symbols, ", ")
	if len(syms) > 900 {
		syms = syms[:900]
		if i := strings.LastIndex(syms, ","); i > 0 {
			syms = syms[:i]
		}
	}
	var b strings.Builder
	b.WriteString("X-Spam-Status: " + spam + ", score=" + strconv.FormatFloat(r.Score, 'f', 2, 64) +
		" required=" + strconv.FormatFloat(r.RequiredScore, 'f', 2, 64) + "\r\n")
	b.WriteString("X-Spam-Action: " + r.Action + "\r\n")
	if syms != "" {
		b.WriteString("X-Spam-Symbols: " + foldList(syms) + "\r\n")
	}
	return b.String()
}

// foldList folds a comma-separated list at its commas, so that no line
// runs past RFC 5322's 78 characters.
func foldList(s string) string {
	var b strings.Builder
	n := len("X-Spam-Symbols: ")
	for i, part := range strings.Split(s, ", ") {
		if i > 0 {
			if n+len(part)+2 > 76 {
				b.WriteString(",\r\n\t")
				n = 1
			} else {
				b.WriteString(", ")
				n += 2
			}
		}
		b.WriteString(part)
		n += len(part)
	}
	return b.String()
}
