package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// This file holds the read queries IMAP and POP3 need beyond the rest of
// the store: messages together with their indexed metadata (so FETCH and
// SEARCH never open a body for headers, envelope or structure), the
// keywords in use in a folder, and a few counts.

// MessageMeta is a message row with the metadata its blob was indexed with.
type MessageMeta struct {
	Message
	Header    string // raw header block of the blob (without the prefix); "" if too long to store
	Envelope  string // JSON of an imap.Envelope
	Structure string // JSON of a Part
}

// MetaColumns says which blob metadata MessagesMeta reads; with none, it
// reads the message rows alone. FlagsOnly reads just the UID, modseq and
// flags of each row (and no blob metadata), what FETCH FLAGS and a SEARCH
// by flags need: a third of the columns, so a third of the work per row.
type MetaColumns struct {
	Header, Envelope, Structure bool
	FlagsOnly                   bool
}

func (c MetaColumns) any() bool { return c.Header || c.Envelope || c.Structure }

// maxUIDRanges is the number of UID ranges put in one query; a longer list
// reads the span between its first and last UID and filters here.
const maxUIDRanges = 100

// MessagesMeta returns the messages of a mailbox's folder whose UIDs are in
// uids (sorted ascending), in UID order, with the blob metadata cols names.
// Bodies are not read. Rows of another mailbox are never returned, whatever
// folder id or UIDs are asked for.
//
// The rows are scanned by hand rather than by gorm: on a 10,000-message
// FETCH gorm's reflection was a third of the time.
func (s *Store) MessagesMeta(ctx context.Context, mailboxID, folderID int64, uids []uint32, cols MetaColumns) ([]MessageMeta, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	ranges := compressUIDs(uids)
	span := len(ranges) > maxUIDRanges
	if span {
		ranges = []UIDRange{{uids[0], uids[len(uids)-1]}}
	}
	sel := []string{"m.id", "m.uid", "m.modseq", "m.seen", "m.answered", "m.flagged", "m.deleted", "m.draft", "m.keywords"}
	if !cols.FlagsOnly {
		sel = append(sel, "m.folder_id", "m.mailbox_id", "m.internal_date", "m.internal_zone", "m.size", "m.blob_key", "m.prefix", "m.save_date")
	}
	blobCols := !cols.FlagsOnly && cols.any()
	q := s.db.Read(ctx).Table("mail_messages AS m")
	if blobCols {
		q = q.Joins("JOIN mail_blobs b ON b.blob_key = m.blob_key")
		if cols.Header {
			sel = append(sel, "b.header")
		}
		if cols.Envelope {
			sel = append(sel, "b.envelope")
		}
		if cols.Structure {
			sel = append(sel, "b.structure")
		}
	}
	q = q.Select(strings.Join(sel, ", ")).Where("m.mailbox_id = ? AND m.folder_id = ?", mailboxID, folderID)
	rows, err := whereUIDsOn(q, "m.uid", ranges).Order("m.uid").Rows()
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	var want map[uint32]struct{}
	if span {
		want = make(map[uint32]struct{}, len(uids))
		for _, u := range uids {
			want[u] = struct{}{}
		}
	}
	out := make([]MessageMeta, 0, min(len(uids), 1024))
	dest := make([]any, 0, len(sel))
	for rows.Next() {
		out = append(out, MessageMeta{})
		m := &out[len(out)-1]
		dest = append(dest[:0], &m.ID, &m.UID, &m.ModSeq, &m.Seen, &m.Answered, &m.Flagged, &m.Deleted, &m.Draft, &m.Keywords)
		if !cols.FlagsOnly {
			m.FolderID, m.MailboxID = folderID, mailboxID
			dest = append(dest, &m.FolderID, &m.MailboxID, &m.InternalDate, &m.InternalZone, &m.Size, &m.BlobKey, &m.Prefix, &m.SaveDate)
		}
		if blobCols {
			if cols.Header {
				dest = append(dest, &m.Header)
			}
			if cols.Envelope {
				dest = append(dest, &m.Envelope)
			}
			if cols.Structure {
				dest = append(dest, &m.Structure)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read messages: %w", err)
		}
		if span {
			if _, ok := want[m.UID]; !ok {
				out = out[:len(out)-1]
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	return out, nil
}

// RangesOf turns UIDs into ranges for the store's calls, sorting a copy
// when they are not in order. It never returns nil, which the store takes
// for every UID: no UIDs, no ranges.
func RangesOf(uids []uint32) []UIDRange {
	if !slices.IsSorted(uids) {
		uids = slices.Sorted(slices.Values(uids))
	}
	return compressUIDs(uids)
}

// compressUIDs turns sorted UIDs into ranges.
func compressUIDs(uids []uint32) []UIDRange {
	rs := []UIDRange{}
	for _, u := range uids {
		if n := len(rs); n > 0 && (rs[n-1].Stop == u || rs[n-1].Stop+1 == u) {
			rs[n-1].Stop = u
			continue
		}
		rs = append(rs, UIDRange{u, u})
	}
	return rs
}

// FolderKeywords returns the keywords set on any message of a folder,
// sorted.
func (s *Store) FolderKeywords(ctx context.Context, folderID int64) ([]string, error) {
	var lists []string
	err := s.db.Read(ctx).Model(&Message{}).Where("folder_id = ? AND keywords <> ''", folderID).
		Distinct("keywords").Pluck("keywords", &lists).Error
	if err != nil {
		return nil, fmt.Errorf("read keywords: %w", err)
	}
	set := map[string]struct{}{}
	for _, l := range lists {
		for _, k := range strings.Fields(l) {
			set[k] = struct{}{}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// FirstUnseenUID returns the lowest UID of a folder's messages without
// \Seen, 0 if there is none.
func (s *Store) FirstUnseenUID(ctx context.Context, folderID int64) (uint32, error) {
	var v *int64
	err := s.db.Read(ctx).Model(&Message{}).Where("folder_id = ? AND seen = ?", folderID, false).
		Select("MIN(uid)").Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("find first unseen: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return uint32(*v), nil
}

// FolderCounts are counts STATUS needs beyond Status.
type FolderCounts struct {
	DeletedSize int64 // bytes of messages with \Deleted
	FromUID     int64 // messages with a UID at or above the one asked for
}

// CountFolder returns a folder's deleted bytes and the number of its
// messages with UID >= fromUID.
func (s *Store) CountFolder(ctx context.Context, folderID int64, fromUID uint32) (*FolderCounts, error) {
	var c FolderCounts
	err := s.db.Read(ctx).Model(&Message{}).Where("folder_id = ?", folderID).
		Select(`COALESCE(SUM(CASE WHEN deleted THEN size ELSE 0 END),0) AS deleted_size,
			COALESCE(SUM(CASE WHEN uid >= ? THEN 1 ELSE 0 END),0) AS from_uid`, fromUID).Scan(&c).Error
	if err != nil {
		return nil, fmt.Errorf("count folder: %w", err)
	}
	return &c, nil
}
