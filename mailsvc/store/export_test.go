package store

import "context"

// ReadChangesPaged is ReadChanges with pages of the given size, so that
// tests see several pages without thousands of messages.
func (s *Store) ReadChangesPaged(ctx context.Context, folderID, since int64, page int, fn func(ChangePage) error) (int64, error) {
	return s.readChanges(ctx, folderID, since, page, fn)
}

// NormRanges is normRanges, for the tests.
func NormRanges(ranges []UIDRange) []UIDRange { return normRanges(ranges) }

// MaxUIDRanges is the number of UID ranges one query names.
const MaxUIDRanges = maxUIDRanges
