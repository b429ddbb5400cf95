package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/blob"
	"github.com/postdesk/postdesk/mailsvc/queue"
	"github.com/postdesk/postdesk/mailsvc/store"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/queueadmin"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

// The crash test's shape: crashClients SMTP connections (crashSubmitters
// of them through submission with AUTH, the rest to the MX) send messages
// until the server is killed with SIGKILL, crashRounds times, each time
// restarted on the same data folder and database.
const (
	crashRounds     = 2
	crashClients    = 16
	crashSubmitters = 6
	crashPassword   = "Xk9#mq2!pLw7z"
	crashRemoteRcpt = "bob@remote.test"
	crashLocalRcpt  = "john@local.test"
	crashSender     = "mary@local.test"
)

// What became of one message, as its client saw it.
type crashOutcome int

const (
	crashUnsent  crashOutcome = iota // the transaction never got to the end of DATA
	crashAcked                       // 250 after DATA
	crashRefused                     // a reply other than 250 (at MAIL, RCPT or DATA)
	crashCutOff                      // the connection broke after the whole text was written
)

func (o crashOutcome) String() string {
	return [...]string{"unsent", "acked", "refused", "cut off"}[o]
}

// crashMsg is one message a client tried to send. Its Message-ID is also
// its Subject, which the queue's listing shows.
type crashMsg struct {
	id      string // Message-ID without brackets
	text    string // the message as sent
	local   bool   // crashLocalRcpt is a recipient
	remote  bool   // crashRemoteRcpt is a recipient (submission only)
	badFrom bool   // From is not the sender's: submission must refuse it
	inData  bool   // the whole text was written (Close sends the final dot and reads the reply)
	outcome crashOutcome
	reply   string
}

// TestServeCrash is the mail-flow issue's crash test: messages are sent
// concurrently to the MX (local recipient) and through submission (remote
// recipient, queued because remote delivery keeps failing for now, some
// with a local recipient too), the server is killed hard in the middle,
// restarted, and every message that got a 250 must be in the mailbox (as
// IMAP shows it) and in the outbound queue (as its listing shows it)
// exactly once; nothing is there twice; what was refused is not there;
// a message for both is stored and queued or neither.
func TestServeCrash(t *testing.T) {
	bin := buildBinary(t)
	for _, eng := range tenantstest.Engines {
		t.Run(string(eng), func(t *testing.T) { testCrash(t, bin, eng) })
	}
}

type crashServer struct {
	t                         *testing.T
	bin                       string
	env                       []string
	data, dbURL               string
	httpAddr, mxAddr, subAddr string
	imapAddr                  string
	runs                      []*syncBuffer // logs of each serve run
	cmd                       *exec.Cmd
	exited                    chan error // cmd.Wait's result
	running                   bool       // exited not yet received from
}

func testCrash(t *testing.T, bin string, eng database.Dialect) {
	s := &crashServer{t: t, bin: bin, data: t.TempDir()}
	if eng == database.Postgres {
		s.dbURL = tenantstest.PostgresURL(t)
	}
	s.httpAddr, s.mxAddr, s.subAddr, s.imapAddr = freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	s.env = []string{"POSTDESK_DATA=" + s.data, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"POSTDESK_HTTP_ADDR=" + s.httpAddr, "POSTDESK_SMTP_ADDR=" + s.mxAddr, "POSTDESK_SUBMISSION_ADDR=" + s.subAddr,
		"POSTDESK_IMAP_ADDR=" + s.imapAddr, "POSTDESK_SUBMISSIONS_ADDR=", "POSTDESK_IMAPS_ADDR=",
		"POSTDESK_POP3_ADDR=", "POSTDESK_POP3S_ADDR=",
		"POSTDESK_ALLOW_PLAINTEXT_AUTH=true", "POSTDESK_HOSTNAME=mail.local.test", "POSTDESK_ADMIN_PASSWORD=Adm1n-pass-word!",
		"POSTDESK_SEND_LIMITS=-1,-1,-1,-1", "POSTDESK_MIN_FREE_DISK=0",
		// Nothing answers DNS there, so every MX lookup fails temporarily
		// and remote messages stay in the queue.
		"POSTDESK_DNS_SERVER=" + crashDeadUDPAddr(t)}
	if s.dbURL != "" {
		s.env = append(s.env, "POSTDESK_DATABASE_URL="+s.dbURL)
	}
	t.Cleanup(func() {
		if s.running {
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			for i, l := range s.runs {
				t.Logf("serve run %d log:\n%s", i+1, l.String())
			}
		}
	})

	s.cli("domain", "add", "local.test")
	s.cli("mailbox", "add", crashLocalRcpt, "--password", crashPassword)
	s.cli("mailbox", "add", crashSender, "--password", crashPassword)

	var msgs []*crashMsg
	for round := 1; round <= crashRounds; round++ {
		s.start()
		msgs = append(msgs, s.crashRound(round)...)
	}

	// The last restart: the server must come back healthy and take mail.
	s.start()
	after := &crashMsg{id: "after-restart@client.test", local: true}
	after.text = crashText(after, crashSender, "")
	c := s.dial(s.mxAddr, false)
	s.send(c, after, "someone@elsewhere.test")
	c.Quit()
	if after.outcome != crashAcked {
		t.Fatalf("after the restart the MX answered %v %q", after.outcome, after.reply)
	}
	msgs = append(msgs, after)

	s.verify(msgs)

	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.running = false
		if err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("serve still running 30 s after SIGTERM")
	}
}

// crashDeadUDPAddr is a loopback UDP address nothing listens on: queries to it
// fail at once (ICMP port unreachable), which the queue treats as a
// temporary DNS failure.
func crashDeadUDPAddr(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

func (s *crashServer) cli(args ...string) {
	s.t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(listenersOff(), s.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("postdesk %v: %v\n%s", args, err, out)
	}
}

// start runs serve and waits until /healthz reports it healthy.
func (s *crashServer) start() {
	s.t.Helper()
	logs := &syncBuffer{}
	s.runs = append(s.runs, logs)
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = append(listenersOff(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = logs, logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited, s.running = make(chan error, 1), true
	go func(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }(s.cmd, s.exited)
	waitHTTP(s.t, "http://"+s.httpAddr+"/healthz")
	s.checkHealth()
}

func (s *crashServer) checkHealth() {
	s.t.Helper()
	resp, err := http.Get("http://" + s.httpAddr + "/healthz")
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"database":"ok"`) {
		s.t.Fatalf("/healthz: %d %s", resp.StatusCode, body)
	}
}

// dial connects an SMTP client, logged in as the sender on submission.
func (s *crashServer) dial(addr string, auth bool) *smtp.Client {
	s.t.Helper()
	c := dialWhenUp(s.t, addr)
	c.CommandTimeout, c.SubmissionTimeout = 20*time.Second, 20*time.Second
	if auth {
		if err := c.Auth(sasl.NewPlainClient("", crashSender, crashPassword)); err != nil {
			s.t.Fatalf("auth: %v", err)
		}
	}
	return c
}

// crashRound connects the clients, lets them send for 1 to 2 seconds, kills
// the server with SIGKILL and returns every message the clients tried.
func (s *crashServer) crashRound(round int) []*crashMsg {
	t := s.t
	clients := make([]*smtp.Client, crashClients)
	for i := range clients {
		if i < crashSubmitters {
			clients[i] = s.dial(s.subAddr, true)
		} else {
			clients[i] = s.dial(s.mxAddr, false)
		}
	}
	var acked atomic.Int64
	sent := make([][]*crashMsg, crashClients)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for n := 0; ; n++ {
				m := &crashMsg{id: fmt.Sprintf("r%d-c%d-m%d@client.test", round, i, n)}
				from := "someone@elsewhere.test"
				if i < crashSubmitters {
					from = crashSender
					m.remote = true
					m.local = n%2 == 0
					m.badFrom = n%5 == 4
				} else {
					m.local = true
				}
				header := crashSender
				if m.badFrom {
					header = crashLocalRcpt // not the sender's own address
				}
				var filler string
				if n%8 == 7 {
					filler = strings.Repeat(fmt.Sprintf("%-75s\r\n", m.id), 1000) // ~75 KiB
				}
				m.text = crashText(m, header, filler)
				sent[i] = append(sent[i], m)
				s.send(c, m, from)
				switch m.outcome {
				case crashAcked:
					acked.Add(1)
				case crashRefused:
					if c.Reset() == nil {
						continue
					}
					return
				case crashCutOff, crashUnsent:
					return
				}
			}
		}()
	}

	// Kill after 1 to 2 seconds, once some messages got their 250.
	time.Sleep(time.Second + rand.N(time.Second))
	deadline := time.Now().Add(15 * time.Second)
	for acked.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-s.exited
	s.running = false
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("clients still running 30 s after the kill")
	}
	var out []*crashMsg
	count := map[crashOutcome]int{}
	for _, ms := range sent {
		out = append(out, ms...)
		for _, m := range ms {
			count[m.outcome]++
			if m.outcome == crashRefused && !m.badFrom {
				t.Logf("round %d: %s refused: %s", round, m.id, m.reply)
			}
		}
	}
	t.Logf("round %d: %d acked, %d refused, %d cut off, %d unsent", round,
		count[crashAcked], count[crashRefused], count[crashCutOff], count[crashUnsent])
	if count[crashAcked] == 0 {
		t.Fatalf("round %d: no message got a 250 before the kill", round)
	}
	return out
}

// crashText is a message with m's Message-ID (also its Subject), the
// given From header, and filler before its last line.
func crashText(m *crashMsg, from, filler string) string {
	var to []string
	if m.local {
		to = append(to, crashLocalRcpt)
	}
	if m.remote {
		to = append(to, crashRemoteRcpt)
	}
	return "From: <" + from + ">\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + m.id + "\r\nMessage-ID: <" + m.id + ">\r\n" +
		"Date: Mon, 02 Jan 2026 15:04:05 +0000\r\n\r\n" + filler + crashMessageTail(m.id)
}

// send runs one SMTP transaction and records its outcome: acked only for a
// 250 after DATA, refused for any other reply, cut off when the connection
// broke after the whole text was written, unsent when it broke before.
func (s *crashServer) send(c *smtp.Client, m *crashMsg, from string) {
	fail := func(err error) {
		var se *smtp.SMTPError
		switch {
		case errors.As(err, &se):
			m.outcome, m.reply = crashRefused, se.Error()
		case m.inData:
			m.outcome, m.reply = crashCutOff, err.Error()
		default:
			m.outcome, m.reply = crashUnsent, err.Error()
		}
	}
	if err := c.Mail(from, nil); err != nil {
		fail(err)
		return
	}
	var rcpts []string
	if m.local {
		rcpts = append(rcpts, crashLocalRcpt)
	}
	if m.remote {
		rcpts = append(rcpts, crashRemoteRcpt)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			fail(err)
			return
		}
	}
	w, err := c.Data()
	if err != nil {
		fail(err)
		return
	}
	if _, err := io.WriteString(w, m.text); err != nil {
		fail(err)
		return
	}
	m.inData = true
	if err := w.Close(); err != nil {
		fail(err)
		return
	}
	m.outcome = crashAcked
}

// verify checks the mailbox through IMAP and the outbound queue through
// its listing against what the clients were told.
func (s *crashServer) verify(msgs []*crashMsg) {
	t := s.t
	byID := map[string]*crashMsg{}
	for _, m := range msgs {
		if byID[m.id] != nil {
			t.Fatalf("test bug: Message-ID %s used twice", m.id)
		}
		byID[m.id] = m
	}
	stored := s.inbox()
	queued := s.queued()

	var unknown []string
	for id, ms := range stored {
		if byID[id] == nil {
			unknown = append(unknown, fmt.Sprintf("%s (%d in INBOX)", id, len(ms)))
		}
	}
	for id, n := range queued {
		if byID[id] == nil {
			unknown = append(unknown, fmt.Sprintf("%s (queued %d times)", id, n))
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("messages nobody sent: %v", unknown)
	}

	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var present, absent int
	var sample []string // for checkSearch
	for _, id := range ids {
		m := byID[id]
		nStored, nQueued := len(stored[id]), queued[id]
		what := fmt.Sprintf("%s (%v %q; local %v, remote %v)", id, m.outcome, m.reply, m.local, m.remote)
		if !m.local && nStored > 0 {
			t.Errorf("%s: stored %d times, not addressed to the mailbox", what, nStored)
		}
		if !m.remote && nQueued > 0 {
			t.Errorf("%s: queued %d times, not addressed to a remote recipient", what, nQueued)
		}
		if m.badFrom && m.outcome == crashAcked {
			t.Errorf("%s: a From header not the sender's was not refused", what)
		}
		for _, sm := range stored[id] {
			// Every stored copy is the whole message: the delivery headers,
			// then the text as sent.
			if !strings.HasSuffix(sm.text, m.text) {
				t.Errorf("%s: UID %d is not the text sent: %d bytes stored, %d sent", what, sm.uid, len(sm.text), len(m.text))
			}
		}
		if nStored > 0 && (m.outcome != crashAcked || rand.N(20) == 0) {
			sample = append(sample, id)
		}
		switch m.outcome {
		case crashAcked:
			if m.local && nStored != 1 {
				t.Errorf("%s: got a 250 but is in the mailbox %d times", what, nStored)
			}
			if m.remote && nQueued != 1 {
				t.Errorf("%s: got a 250 but is in the queue %d times", what, nQueued)
			}
		case crashRefused:
			if nStored != 0 || nQueued != 0 {
				t.Errorf("%s: refused, yet stored %d and queued %d times", what, nStored, nQueued)
			}
		default:
			if nStored > 1 || nQueued > 1 {
				t.Errorf("%s: stored %d and queued %d times", what, nStored, nQueued)
			}
			if m.outcome == crashUnsent && (nStored > 0 || nQueued > 0) {
				t.Errorf("%s: the end of DATA was never sent, yet stored %d and queued %d times", what, nStored, nQueued)
			}
			if m.outcome == crashCutOff {
				if nStored+nQueued > 0 {
					present++
				} else {
					absent++
				}
			}
		}
		// One transaction stores and queues: all or nothing.
		if m.local && m.remote && (nStored > 0) != (nQueued > 0) {
			t.Errorf("%s: stored %d times but queued %d times", what, nStored, nQueued)
		}
	}
	t.Logf("messages cut off by the kill: %d kept, %d not", present, absent)
	s.checkSearch(sample, stored)
	s.checkDatabase()
}

// crashInboxMsg is one message of the INBOX as IMAP shows it.
type crashInboxMsg struct {
	uid  imap.UID
	text string // BODY[]
}

// inbox returns the INBOX's messages by Message-ID, fetched in one FETCH
// 1:* as a client syncing the folder would.
func (s *crashServer) inbox() map[string][]crashInboxMsg {
	t := s.t
	c := s.imapLogin()
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	out := map[string][]crashInboxMsg{}
	if sel.NumMessages == 0 {
		return out
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Envelope: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if len(bufs) != int(sel.NumMessages) {
		t.Errorf("SELECT says %d messages, FETCH 1:* returned %d", sel.NumMessages, len(bufs))
	}
	seen := map[imap.UID]bool{}
	for _, b := range bufs {
		if seen[b.UID] {
			t.Errorf("UID %d twice in INBOX", b.UID)
		}
		seen[b.UID] = true
		if b.Envelope == nil {
			t.Errorf("UID %d: no envelope", b.UID)
			continue
		}
		id := b.Envelope.MessageID
		out[id] = append(out[id], crashInboxMsg{uid: b.UID, text: string(b.FindBodySection(section))})
	}
	return out
}

// crashMessageTail is how every test message ends.
func crashMessageTail(id string) string {
	return "Crash test message " + id + ".\r\n"
}

func (s *crashServer) imapLogin() *imapclient.Client {
	t := s.t
	c, err := imapclient.DialInsecure(s.imapAddr, nil)
	if err != nil {
		t.Fatalf("imap dial: %v", err)
	}
	if err := c.Login(crashLocalRcpt, crashPassword).Wait(); err != nil {
		c.Close()
		t.Fatalf("imap login: %v", err)
	}
	return c
}

// checkSearch looks messages up with SEARCH HEADER Message-ID, as a
// user's client would, and compares the UIDs with FETCH's. Each SEARCH
// reads the whole folder's headers, so it is asked for a sample only.
func (s *crashServer) checkSearch(ids []string, stored map[string][]crashInboxMsg) {
	t := s.t
	c := s.imapLogin()
	defer c.Close()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("select: %v", err)
	}
	for _, id := range ids {
		d, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
		if err != nil {
			t.Fatalf("search %s: %v", id, err)
		}
		var want []imap.UID
		for _, m := range stored[id] {
			want = append(want, m.uid)
		}
		if got := d.AllUIDs(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("SEARCH HEADER Message-ID %s: UIDs %v, FETCH found %v", id, got, want)
		}
	}
}

// openDB opens the server's database beside it.
func (s *crashServer) openDB() *database.DB {
	db, err := database.Open(context.Background(), database.Config{URL: s.dbURL, DataDir: s.data})
	if err != nil {
		s.t.Fatalf("open database: %v", err)
	}
	s.t.Cleanup(func() { db.Close() })
	return db
}

// queued counts the queue's recipients crashRemoteRcpt by message (the
// Subject holds the Message-ID), through the listing the queue page shows.
func (s *crashServer) queued() map[string]int {
	t := s.t
	ctx := context.Background()
	db := s.openDB()
	blobs, err := blob.NewFiles(filepath.Join(s.data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db, blobs, store.Options{BlobRefs: []string{queue.BlobTable}})
	q, err := queue.New(db, st, tenants.New(db, tenants.Options{}), nil, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for off := 0; ; {
		list, total, err := q.QueueMessages(ctx, tenants.SystemScope("crash test"), queueadmin.QueueQuery{Limit: 500, Offset: off})
		if err != nil {
			t.Fatalf("queue listing: %v", err)
		}
		for _, m := range list {
			if m.Kind != queue.KindSubmission || m.From != crashSender {
				t.Errorf("queued message %d (%s): kind %s from %s", m.ID, m.Subject, m.Kind, m.From)
			}
			for _, r := range m.Recipients {
				if r.Address != crashRemoteRcpt {
					t.Errorf("queued message %d (%s): recipient %s", m.ID, m.Subject, r.Address)
					continue
				}
				out[m.Subject]++
			}
		}
		off += len(list)
		if len(list) == 0 || int64(off) >= total {
			return out
		}
	}
}

// checkDatabase checks what neither IMAP nor the queue page shows: each
// queued message's body is on disk, and each mailbox's usage counts what
// it holds.
func (s *crashServer) checkDatabase() {
	t := s.t
	ctx := context.Background()
	db := s.openDB()
	blobs, err := blob.NewFiles(filepath.Join(s.data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := db.Read(ctx).Table(queue.BlobTable).Pluck("blob_key", &keys).Error; err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		r, err := blobs.Open(ctx, k)
		if err != nil {
			t.Errorf("queued message's blob: %v", err)
			continue
		}
		r.Close()
	}
	type sums struct {
		MailboxID       int64
		Bytes, Messages int64
	}
	var usage, actual []sums
	if err := db.Read(ctx).Raw("SELECT mailbox_id, bytes, messages FROM mail_usage ORDER BY mailbox_id").Scan(&usage).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Read(ctx).Raw(`SELECT mailbox_id, CAST(SUM(size) AS BIGINT) AS bytes, COUNT(*) AS messages FROM mail_messages
		GROUP BY mailbox_id ORDER BY mailbox_id`).Scan(&actual).Error; err != nil {
		t.Fatal(err)
	}
	var nonEmpty []sums
	for _, u := range usage {
		if u.Bytes != 0 || u.Messages != 0 {
			nonEmpty = append(nonEmpty, u)
		}
	}
	if fmt.Sprint(nonEmpty) != fmt.Sprint(actual) {
		t.Errorf("mailbox usage %v, but the messages add up to %v", nonEmpty, actual)
	}
}
