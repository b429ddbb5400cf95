package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"time"

	"github.com/emersion/go-message"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/mailsvc/store"
)

// Failures are kept this long for the queue page and the report.
const failureRetention = 30 * 24 * time.Hour

// maxReportLines bounds one report; the rest go in the next one.
const maxReportLines = 1000

// errRaced is another process sending the same report first.
var errRaced = errors.New("report sent by another process")

// reportLoop sends the delivery failure report when it falls due, and
// prunes old failures.
func (q *Queue) reportLoop(ctx context.Context) {
	t := time.NewTicker(min(q.opts.PollInterval, time.Minute))
	defer t.Stop()
	var pruned time.Time
	for {
		if _, err := q.report(ctx, false); err != nil && ctx.Err() == nil {
			q.log.WarnContext(ctx, "queue: failure report", "err", err)
		}
		if now := q.clock(); now.Sub(pruned) > time.Hour || now.Before(pruned) {
			if err := q.pruneFailures(ctx, now); err != nil && ctx.Err() == nil {
				q.log.WarnContext(ctx, "queue: prune failures", "err", err)
			}
			pruned = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (q *Queue) pruneFailures(ctx context.Context, now time.Time) error {
	return q.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Where("failed_at < ?", now.Add(-failureRetention)).Delete(&failureRow{}).Error
	})
}

// report sends the failure report when it is due, or at once with force
// (even with nothing to report). The schedule lives in the database
// (queue_settings.last_report_at) and is advanced with a compare-and-swap
// on report_seq in the transaction that queues the report, so that of
// several processes exactly one sends it.
func (q *Queue) report(ctx context.Context, force bool) (bool, error) {
	st, err := q.current(ctx)
	if err != nil {
		return false, err
	}
	if st.ReportAddress == "" {
		if force {
			return false, invalid("report_address", "no report address is set")
		}
		return false, nil
	}
	row, err := q.settingsRow(ctx)
	if err != nil {
		return false, err
	}
	now := q.clock()
	if !force {
		if row.LastReportAt == nil {
			// The schedule starts now: the first report after one interval.
			return false, q.advanceReport(ctx, row.ReportSeq, now)
		}
		if now.Before(row.LastReportAt.Add(st.ReportInterval)) {
			return false, nil
		}
	}
	var fs []failureRow
	if err := q.db.Read(ctx).Where("reported_at IS NULL").Order("failed_at, id").Limit(maxReportLines).Find(&fs).Error; err != nil {
		return false, fmt.Errorf("read failures: %w", err)
	}
	if len(fs) == 0 && !force {
		return false, q.advanceReport(ctx, row.ReportSeq, now)
	}
	since := now
	if row.LastReportAt != nil {
		since = *row.LastReportAt
	}
	domain, local, err := q.locality(ctx, st.ReportAddress)
	if err != nil {
		return false, fmt.Errorf("report address %s: %w", st.ReportAddress, err)
	}
	var buf bytes.Buffer
	if err := q.writeReport(&buf, st.ReportAddress, since, now, fs); err != nil {
		return false, err
	}
	p, err := q.store.Blobs().Create(ctx)
	if err != nil {
		return false, fmt.Errorf("create report blob: %w", err)
	}
	if _, err := p.Write(buf.Bytes()); err != nil {
		p.Abort()
		return false, fmt.Errorf("write report: %w", err)
	}
	ids := make([]int64, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	_, err = q.store.Deliver(ctx, &store.Delivery{Blob: p, KeepBlob: true, Extra: func(t database.Tx, key string) error {
		tx := t.Gorm()
		if err := casReportTx(tx, row.ReportSeq, now); err != nil {
			return err
		}
		if len(ids) > 0 {
			if err := tx.Model(&failureRow{}).Where("id IN ? AND reported_at IS NULL", ids).Update("reported_at", now).Error; err != nil {
				return fmt.Errorf("mark failures reported: %w", err)
			}
		}
		_, err := q.insertTx(tx, Envelope{BlobKey: key, Kind: KindReport}, []newRcpt{{addr: st.ReportAddress, domain: domain, local: local, notify: true}})
		return err
	}})
	if errors.Is(err, errRaced) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	q.log.InfoContext(ctx, "queue: failure report queued", "to", st.ReportAddress, "failures", len(fs))
	q.Kick()
	return true, nil
}

// settingsRow reads the settings row, making it when missing.
func (q *Queue) settingsRow(ctx context.Context) (*settingsRow, error) {
	var row settingsRow
	err := q.db.Read(ctx).Where("id = 1").Take(&row).Error
	if err == nil {
		return &row, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("read report schedule: %w", err)
	}
	err = q.db.Write(ctx, func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&settingsRow{ID: 1, Value: "{}", UpdatedAt: q.clock()}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("make settings row: %w", err)
	}
	if err := q.db.Read(ctx).Where("id = 1").Take(&row).Error; err != nil {
		return nil, fmt.Errorf("read report schedule: %w", err)
	}
	return &row, nil
}

func (q *Queue) advanceReport(ctx context.Context, seq int64, now time.Time) error {
	err := q.db.Write(ctx, func(tx *gorm.DB) error { return casReportTx(tx, seq, now) })
	if errors.Is(err, errRaced) {
		return nil
	}
	return err
}

func casReportTx(tx *gorm.DB, seq int64, now time.Time) error {
	res := tx.Model(&settingsRow{}).Where("id = 1 AND report_seq = ?", seq).
		Updates(map[string]any{"last_report_at": now, "report_seq": gorm.Expr("report_seq + 1")})
	if res.Error != nil {
		return fmt.Errorf("advance report schedule: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return errRaced
	}
	return nil
}

// writeReport writes the report message: a plain-text list of the
// failures (time, sender, recipient, last error), as Mailtraq's delivery
// failure report.
func (q *Queue) writeReport(w io.Writer, to string, since, now time.Time, fs []failureRow) error {
	var id [12]byte
	rand.Read(id[:])
	// go-message puts each new field on top: set them bottom up.
	var h message.Header
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("MIME-Version", "1.0")
	h.Set("Auto-Submitted", "auto-generated")
	h.Set("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+q.hostname+">")
	h.Set("Date", now.Format(time.RFC1123Z))
	h.Set("Subject", mime.QEncoding.Encode("utf-8", fmt.Sprintf("Delivery failure report for %s: %d undelivered", q.hostname, len(fs))))
	h.Set("To", "<"+to+">")
	h.Set("From", "Mail Delivery System <MAILER-DAEMON@"+q.hostname+">")
	mw, err := message.CreateWriter(w, h)
	if err != nil {
		return fmt.Errorf("compose report: %w", err)
	}
	const layout = "2006-01-02 15:04 UTC"
	var b bytes.Buffer
	fmt.Fprintf(&b, "Outbound messages that could not be delivered by %s\r\nfrom %s to %s:\r\n\r\n", q.hostname, since.UTC().Format(layout), now.UTC().Format(layout))
	if len(fs) == 0 {
		b.WriteString("None.\r\n")
	}
	for _, f := range fs {
		from := f.MailFrom
		if from == "" {
			from = "<>"
		}
		fmt.Fprintf(&b, "%s  queue id %d (%s)\r\n", f.FailedAt.UTC().Format(layout), f.QueueID, f.Kind)
		fmt.Fprintf(&b, "  sender:    %s\r\n", oneLine(from))
		fmt.Fprintf(&b, "  recipient: %s\r\n", oneLine(f.Rcpt))
		if f.Subject != "" {
			fmt.Fprintf(&b, "  subject:   %s\r\n", oneLine(f.Subject))
		}
		fmt.Fprintf(&b, "  error:     %s\r\n", oneLine(f.Error))
		if f.RemoteHost != "" {
			fmt.Fprintf(&b, "  host:      %s\r\n", oneLine(f.RemoteHost))
		}
		fmt.Fprintf(&b, "  attempts:  %d\r\n\r\n", f.Attempts)
	}
	if len(fs) == maxReportLines {
		b.WriteString("More failures follow in the next report.\r\n")
	}
	if _, err := mw.Write(b.Bytes()); err != nil {
		return fmt.Errorf("compose report: %w", err)
	}
	return mw.Close()
}
