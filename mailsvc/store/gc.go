package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CollectGarbage removes blobs nothing references any more: metadata rows
// of blobs no message (or queue entry) points to, and blob files without a
// row, older than grace (a delivery in flight writes its file before its
// row). It returns the number of blobs removed.
func (s *Store) CollectGarbage(ctx context.Context, grace time.Duration) (int, error) {
	cutoff := s.now().UTC().Add(-grace)
	var keys []string
	conds := make([]string, len(s.blobRefs))
	for i, t := range s.blobRefs {
		conds[i] = fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s r WHERE r.blob_key = mail_blobs.blob_key)", t)
	}
	err := s.db.Read(ctx).Model(&BlobRow{}).Where("created_at < ? AND "+strings.Join(conds, " AND "), cutoff).
		Limit(10000).Pluck("blob_key", &keys).Error
	if err != nil {
		return 0, fmt.Errorf("find unreferenced blobs: %w", err)
	}
	removed := 0
	for _, k := range keys {
		// Delete the row first, re-checking references in the same
		// statement, then the file; a crash in between leaves a file
		// without a row, which the walk below removes.
		var n int64
		err := s.db.Write(ctx, func(tx *gorm.DB) error {
			res := tx.Where("blob_key = ? AND "+strings.Join(conds, " AND "), k).Delete(&BlobRow{})
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return removed, fmt.Errorf("delete blob row: %w", err)
		}
		if n == 1 {
			if err := s.blobs.Delete(ctx, k); err != nil {
				return removed, err
			}
			removed++
		}
	}
	err = s.blobs.Walk(ctx, func(key string, created time.Time) error {
		if created.After(cutoff) {
			return nil
		}
		var n int64
		if err := s.db.Read(ctx).Model(&BlobRow{}).Where("blob_key = ?", key).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			if err := s.blobs.Delete(ctx, key); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("walk blobs: %w", err)
	}
	return removed, nil
}
