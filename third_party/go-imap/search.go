package imap

import (
	"reflect"
	"time"
)

// SearchOptions contains options for the SEARCH command.
type SearchOptions struct {
	// Requires IMAP4rev2 or ESEARCH
	ReturnMin   bool
	ReturnMax   bool
	ReturnAll   bool
	ReturnCount bool
	// Requires IMAP4rev2 or SEARCHRES
	ReturnSave bool
	// Requires CONTEXT=SEARCH (RFC 5267 4).
	//
	// postdesk: upstream had neither.
	ReturnUpdate  bool           // keep the result up to date with ADDTO and REMOVEFROM
	ReturnPartial *SearchPartial // the result's messages from First to Last only
	// Tag is the SEARCH command's tag, which a server sets for
	// ReturnUpdate: the ESEARCH updates name the search by it.
	Tag string
}

// SearchPartial is the range of a PARTIAL return option (RFC 5267 4.4):
// the First-th to the Last-th message of the result, counted from 1,
// First <= Last.
type SearchPartial struct {
	First, Last uint32
}

// SearchCriteria is a criteria for the SEARCH command.
//
// When multiple fields are populated, the result is the intersection ("and"
// function) of all messages that match the fields.
//
// And, Not and Or can be used to combine multiple criteria together. For
// instance, the following criteria matches messages not containing "hello":
//
//	SearchCriteria{Not: []SearchCriteria{{
//		Body: []string{"hello"},
//	}}}
//
// The following criteria matches messages containing either "hello" or
// "world":
//
//	SearchCriteria{Or: [][2]SearchCriteria{{
//		{Body: []string{"hello"}},
//		{Body: []string{"world"}},
//	}}}
type SearchCriteria struct {
	SeqNum []SeqSet
	UID    []UIDSet

	// Only the date is used, the time and timezone are ignored
	Since      time.Time
	Before     time.Time
	SentSince  time.Time
	SentBefore time.Time

	Header []SearchCriteriaHeaderField
	Body   []string
	Text   []string

	Flag    []Flag
	NotFlag []Flag

	Larger  int64
	Smaller int64

	Not []SearchCriteria
	Or  [][2]SearchCriteria

	ModSeq *SearchCriteriaModSeq // requires CONDSTORE

	// Older and Younger, in seconds, match messages whose internal date
	// is more, or at most, that long ago; 0 is no limit (OLDER and
	// YOUNGER, WITHIN, RFC 5032).
	//
	// postdesk: requires WITHIN.
	Older, Younger uint32

	// EmailID and ThreadID match messages by their object ids (EMAILID
	// and THREADID, RFC 8474 6).
	//
	// postdesk: requires OBJECTID.
	EmailID, ThreadID []string

	// SavedSince and SavedBefore compare the date (not the time) messages
	// were saved in the mailbox (SAVEDSINCE, SAVEDBEFORE and SAVEDON);
	// SaveDateSupported matches every message if the mailbox keeps save
	// dates, none if not (SAVEDATESUPPORTED, RFC 8514 4.2).
	//
	// postdesk: requires SAVEDATE.
	SavedSince, SavedBefore time.Time
	SaveDateSupported       bool
}

// And intersects two search criteria.
func (criteria *SearchCriteria) And(other *SearchCriteria) {
	criteria.SeqNum = append(criteria.SeqNum, other.SeqNum...)
	criteria.UID = append(criteria.UID, other.UID...)

	criteria.Since = intersectSince(criteria.Since, other.Since)
	criteria.Before = intersectBefore(criteria.Before, other.Before)
	criteria.SentSince = intersectSince(criteria.SentSince, other.SentSince)
	criteria.SentBefore = intersectBefore(criteria.SentBefore, other.SentBefore)

	criteria.Header = append(criteria.Header, other.Header...)
	criteria.Body = append(criteria.Body, other.Body...)
	criteria.Text = append(criteria.Text, other.Text...)

	criteria.Flag = append(criteria.Flag, other.Flag...)
	criteria.NotFlag = append(criteria.NotFlag, other.NotFlag...)

	if criteria.Larger == 0 || other.Larger > criteria.Larger {
		criteria.Larger = other.Larger
	}
	if other.Smaller != 0 && (criteria.Smaller == 0 || other.Smaller < criteria.Smaller) {
		criteria.Smaller = other.Smaller
	}

	// postdesk: WITHIN and OBJECTID.
	if other.Older > criteria.Older {
		criteria.Older = other.Older
	}
	if other.Younger != 0 && (criteria.Younger == 0 || other.Younger < criteria.Younger) {
		criteria.Younger = other.Younger
	}
	criteria.EmailID = append(criteria.EmailID, other.EmailID...)
	criteria.SavedSince = intersectSince(criteria.SavedSince, other.SavedSince)
	criteria.SavedBefore = intersectBefore(criteria.SavedBefore, other.SavedBefore)
	criteria.SaveDateSupported = criteria.SaveDateSupported || other.SaveDateSupported
	criteria.ThreadID = append(criteria.ThreadID, other.ThreadID...)

	criteria.Not = append(criteria.Not, other.Not...)
	criteria.Or = append(criteria.Or, other.Or...)
}

func intersectSince(t1, t2 time.Time) time.Time {
	switch {
	case t1.IsZero():
		return t2
	case t2.IsZero():
		return t1
	case t1.After(t2):
		return t1
	default:
		return t2
	}
}

func intersectBefore(t1, t2 time.Time) time.Time {
	switch {
	case t1.IsZero():
		return t2
	case t2.IsZero():
		return t1
	case t1.Before(t2):
		return t1
	default:
		return t2
	}
}

type SearchCriteriaHeaderField struct {
	Key, Value string
}

type SearchCriteriaModSeq struct {
	ModSeq       uint64
	MetadataName string
	MetadataType SearchCriteriaMetadataType
}

type SearchCriteriaMetadataType string

const (
	SearchCriteriaMetadataAll     SearchCriteriaMetadataType = "all"
	SearchCriteriaMetadataPrivate SearchCriteriaMetadataType = "priv"
	SearchCriteriaMetadataShared  SearchCriteriaMetadataType = "shared"
)

// SearchData is the data returned by a SEARCH command.
type SearchData struct {
	All NumSet

	// requires IMAP4rev2 or ESEARCH
	Min   uint32
	Max   uint32
	Count uint32

	// requires CONDSTORE
	ModSeq uint64

	// ExpungeIssued, set by a server's Session, reports that the search left
	// out messages that another session expunged and that the client has
	// not yet been told about (no EXPUNGE sent yet): the server answers
	// OK [EXPUNGEISSUED] (RFC 9051 7.1), so the client knows the result may
	// lack messages it still sees.
	//
	// postdesk: upstream had no way to send the code.
	ExpungeIssued bool
}

// AllSeqNums returns All as a slice of sequence numbers.
func (data *SearchData) AllSeqNums() []uint32 {
	seqSet, ok := data.All.(SeqSet)
	if !ok {
		return nil
	}

	// Note: a dynamic sequence set would be a server bug
	nums, ok := seqSet.Nums()
	if !ok {
		panic("imap: SearchData.All is a dynamic number set")
	}
	return nums
}

// AllUIDs returns All as a slice of UIDs.
func (data *SearchData) AllUIDs() []UID {
	uidSet, ok := data.All.(UIDSet)
	if !ok {
		return nil
	}

	// Note: a dynamic sequence set would be a server bug
	uids, ok := uidSet.Nums()
	if !ok {
		panic("imap: SearchData.All is a dynamic number set")
	}
	return uids
}

// searchRes is a special empty UIDSet which can be used as a marker. It has
// a non-zero cap so that its data pointer is non-nil and can be compared.
//
// It's a UIDSet rather than a SeqSet so that it can be passed to the
// UID EXPUNGE command.
var (
	searchRes     = make(UIDSet, 0, 1)
	searchResAddr = reflect.ValueOf(searchRes).Pointer()
)

// SearchRes returns a special marker which can be used instead of a UIDSet to
// reference the last SEARCH result. On the wire, it's encoded as '$'.
//
// It requires IMAP4rev2 or the SEARCHRES extension.
func SearchRes() UIDSet {
	return searchRes
}

// IsSearchRes checks whether a sequence set is a reference to the last SEARCH
// result. See SearchRes.
func IsSearchRes(numSet NumSet) bool {
	return reflect.ValueOf(numSet).Pointer() == searchResAddr
}
