package tenants

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants/address"
)

// Kinds of lists: who may post.
const (
	// ListAnnounce: only owners and moderators post.
	ListAnnounce = "announce"
	// ListDiscussion: members, owners and moderators post; others are
	// refused.
	ListDiscussion = "discussion"
	// ListModerated: owners and moderators post; members' posts are
	// held for a moderator.
	ListModerated = "moderated"
)

// What becomes of a non-member's post to a discussion or moderated list
// (List.NonMembers).
const (
	NonMembersRefuse = "refuse" // 550 at RCPT
	NonMembersHold   = "hold"   // held for a moderator
)

// Roles of a list's addresses (ListTarget.Role): the list itself and its
// command addresses LOCAL-subscribe@, LOCAL-unsubscribe@, LOCAL-owner@,
// LOCAL-bounces+VERP@ (delivery reports only) and LOCAL-confirm+TOKEN@
// (answers to a confirmation request).
const (
	ListRolePost        = "post"
	ListRoleSubscribe   = "subscribe"
	ListRoleUnsubscribe = "unsubscribe"
	ListRoleOwner       = "owner"
	ListRoleBounces     = "bounces"
	ListRoleConfirm     = "confirm"
)

// listCommands are the command suffixes a list reserves in its domain;
// those marked true take a "+argument".
var listCommands = []struct {
	role   string
	hasArg bool
}{
	{ListRoleSubscribe, false}, {ListRoleUnsubscribe, false}, {ListRoleOwner, false},
	{ListRoleBounces, true}, {ListRoleConfirm, true},
}

// ViaList: the recipient is a list or one of its command addresses.
const ViaList = "list"

// Limits of the subscription requests a list takes by mail or page, so
// that no list mails a stranger more than a few confirmation requests.
const (
	// MaxListRequestsPerAddress bounds the confirmation requests one
	// address gets from one list per day.
	MaxListRequestsPerAddress = 3
	// MaxListRequestsPerSource bounds the requests one source (a client's
	// IP address) makes per hour, over every list.
	MaxListRequestsPerSource = 20
	// ListRequestTTL is how long a confirmation stays valid.
	ListRequestTTL = 72 * time.Hour
	// MaxListMembers bounds one list's addresses.
	MaxListMembers = 100_000
)

// ErrListRequestLimit: a confirmation request past the limits above.
var ErrListRequestLimit = errors.New("too many subscription requests")

// List is a mailing list of a domain.
type List struct {
	ID               int64
	DomainID         int64
	LocalPart        string
	Kind             string
	NonMembers       string // NonMembersRefuse or NonMembersHold
	BounceThreshold  int64  // hard bounces within BouncePeriodDays that disable a member; 0: never
	BouncePeriodDays int64
	// ArchiveMailboxID is the mailbox of the list's domain that keeps a
	// copy of every post; nil: none.
	ArchiveMailboxID *int64
	CreatedAt        time.Time
}

// TableName is gorm's table name.
func (List) TableName() string { return "lists" }

// ListMember is one address a list knows, with its roles.
type ListMember struct {
	ID        int64
	ListID    int64
	Address   string // lower case
	Member    bool   // receives posts
	Owner     bool
	Moderator bool
	Paused    bool // the member asked for no posts for now
	Disabled  bool // turned off by bounces
	CreatedAt time.Time
}

// TableName is gorm's table name.
func (ListMember) TableName() string { return "list_members" }

type listRequest struct {
	ID        int64
	ListID    int64
	Address   string
	Action    string
	TokenHash string
	Source    string
	CreatedAt time.Time
	ExpiresAt time.Time
	Used      bool
}

func (listRequest) TableName() string { return "list_requests" }

type listBounce struct {
	ID       int64
	MemberID int64
	At       time.Time
}

func (listBounce) TableName() string { return "list_bounces" }

// ListTarget is what a recipient at a list's address resolved to.
type ListTarget struct {
	List    List
	Address address.Address // the list's own address
	Role    string          // ListRolePost, ...
	Arg     string          // the "+argument" of bounces and confirm
}

// ListInput is a new list.
type ListInput struct {
	Address         address.Address
	Kind            string // "": discussion
	Owners          []address.Address
	BounceThreshold int64  // -1: the default (5); 0: never disable
	NonMembers      string // "": NonMembersRefuse
	// Archive is a mailbox of the list's domain (its own address) that
	// keeps every post; zero: none.
	Archive address.Address
}

// listRoleOf splits a local part into a list's local part and the role of
// the address, if it has the form of a list command; otherwise it is the
// list's own address (ListRolePost).
func listRoleOf(local string) (listLocal, role, arg string) {
	base, arg, hasArg := strings.Cut(local, "+")
	for _, c := range listCommands {
		if hasArg != c.hasArg || (hasArg && arg == "") {
			continue
		}
		if l, ok := strings.CutSuffix(base, "-"+c.role); ok && l != "" {
			return l, c.role, arg
		}
	}
	return local, ListRolePost, ""
}

// listAt returns the list local is an address of in domain domainID (its
// own or a command's), or nil.
func (s *Service) listAt(db *gorm.DB, domainID int64, local string) (*List, string, string, error) {
	var l List
	err := db.Where("domain_id = ? AND local_part = ?", domainID, local).Take(&l).Error
	if err == nil {
		return &l, ListRolePost, "", nil
	}
	if !notFound(err) {
		return nil, "", "", fmt.Errorf("look up list %s: %w", local, err)
	}
	base, role, arg := listRoleOf(local)
	if role == ListRolePost {
		return nil, "", "", nil
	}
	err = db.Where("domain_id = ? AND local_part = ?", domainID, base).Take(&l).Error
	if notFound(err) {
		return nil, "", "", nil
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("look up list %s: %w", base, err)
	}
	return &l, role, arg, nil
}

// listHolders are the local parts of the lists that would hold local as
// their address or a command address: local itself, and the base of
// LOCAL-subscribe, LOCAL-bounces+ARG and the like (also without the
// argument: the bare LOCAL-bounces is reserved as the base of those).
func listHolders(local string) []string {
	out := []string{local}
	if base, role, _ := listRoleOf(local); role != ListRolePost {
		out = append(out, base)
	} else if !strings.Contains(local, "+") {
		if base, role, _ := listRoleOf(local + "+x"); role != ListRolePost {
			out = append(out, base)
		}
	}
	return out
}

// listHolds names the list that holds local in d (as its address or a
// command's), for checkFree; "" when none does.
func (s *Service) listHolds(tx *gorm.DB, d *Domain, local address.Localpart) (string, error) {
	holders := listHolders(string(local))
	var ls []List
	if err := tx.Where("domain_id = ? AND local_part IN ?", d.ID, holders).Order("local_part").Find(&ls).Error; err != nil {
		return "", fmt.Errorf("look up lists: %w", err)
	}
	if len(ls) == 0 {
		return "", nil
	}
	l := ls[0]
	if l.LocalPart == string(local) {
		return "the list " + l.LocalPart + "@" + d.Name, nil
	}
	return "the list " + l.LocalPart + "@" + d.Name + " (one of its command addresses)", nil
}

// listLocals returns the local parts of domain d's lists, for checks of
// many addresses at once (the bulk import) with listHolders.
func (s *Service) listLocals(db *gorm.DB, domainID int64) (map[string]bool, error) {
	var locals []string
	if err := db.Model(&List{}).Where("domain_id = ?", domainID).Pluck("local_part", &locals).Error; err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	m := make(map[string]bool, len(locals))
	for _, l := range locals {
		m[l] = true
	}
	return m, nil
}

// CreateList makes a list at in.Address, with its owners. The address and
// its command addresses must be free (checkFree, the one rule for every
// address of a domain).
func (s *Service) CreateList(ctx context.Context, sc Scope, in ListInput) (*List, error) {
	kind := in.Kind
	if kind == "" {
		kind = ListDiscussion
	}
	switch kind {
	case ListAnnounce, ListDiscussion, ListModerated:
	default:
		return nil, invalid("kind", "kind must be announce, discussion or moderated")
	}
	nonMembers := in.NonMembers
	if nonMembers == "" {
		nonMembers = NonMembersRefuse
	}
	if nonMembers != NonMembersRefuse && nonMembers != NonMembersHold {
		return nil, invalid("non_members", "non-members' posts are refused or held")
	}
	if in.BounceThreshold < 0 {
		in.BounceThreshold = 5
	}
	if in.BounceThreshold > 1000 {
		return nil, invalid("bounce_threshold", "bounce threshold must be at most 1000")
	}
	local := string(in.Address.Local)
	if strings.Contains(local, "+") {
		return nil, invalid("address", "a list's address can't hold '+'")
	}
	if len(local)+len("-unsubscribe") > 64 || len(local)+len("-confirm+")+26 > 64 {
		return nil, invalid("address", "a list's local part may be at most 29 characters, so that its command addresses fit")
	}
	var l *List
	err := s.db.Write(ctx, func(tx *gorm.DB) error {
		d, err := s.domainTx(tx, sc, in.Address.Domain)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		if d.IsAlias() {
			return invalid("address", "%s is an alias domain; make the list in its primary domain", d.Name)
		}
		if err := s.checkFree(tx, d, in.Address.Local); err != nil {
			return err
		}
		for _, c := range listCommands {
			if err := s.checkFree(tx, d, address.Localpart(local+"-"+c.role)); err != nil {
				return err
			}
		}
		l = &List{DomainID: d.ID, LocalPart: local, Kind: kind, NonMembers: nonMembers, BounceThreshold: in.BounceThreshold,
			BouncePeriodDays: 30, CreatedAt: s.clock()}
		if !in.Archive.IsZero() {
			if in.Archive.Domain != in.Address.Domain {
				return invalid("archive", "the archive must be a mailbox of %s", d.Name)
			}
			m, err := s.mailboxTx(tx, sc, in.Archive)
			if err != nil {
				return invalid("archive", "%s is no mailbox here", in.Archive)
			}
			l.ArchiveMailboxID = &m.ID
		}
		if err := tx.Create(l).Error; err != nil {
			return fmt.Errorf("insert list: %w", err)
		}
		for _, o := range in.Owners {
			if err := s.checkMemberAddress(tx, l, d, o); err != nil {
				return err
			}
			m := ListMember{ListID: l.ID, Address: strings.ToLower(o.String()), Owner: true, CreatedAt: s.clock()}
			if err := tx.Create(&m).Error; err != nil {
				return fmt.Errorf("insert owner %s: %w", o, err)
			}
		}
		return s.audit(tx, sc, &d.ID, "list.create", "%s@%s (%s)", local, d.Name, kind)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// listTx finds the list at a within the scope.
func (s *Service) listTx(tx *gorm.DB, sc Scope, a address.Address) (*List, *Domain, error) {
	d, err := s.domainTx(tx, sc, a.Domain)
	if err != nil {
		return nil, nil, err
	}
	var l List
	err = tx.Where("domain_id = ? AND local_part = ?", d.ID, string(a.Local)).Take(&l).Error
	if notFound(err) {
		return nil, nil, fmt.Errorf("list %s: %w", a, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up list %s: %w", a, err)
	}
	return &l, d, nil
}

// List returns the list at a.
func (s *Service) List(ctx context.Context, sc Scope, a address.Address) (*List, error) {
	l, _, err := s.listTx(s.db.Read(ctx), sc, a)
	return l, err
}

// Lists returns a domain's lists.
func (s *Service) Lists(ctx context.Context, sc Scope, domain address.Domain) ([]List, error) {
	db := s.db.Read(ctx)
	d, err := s.domainTx(db, sc, domain)
	if err != nil {
		return nil, err
	}
	var ls []List
	if err := db.Where("domain_id = ?", d.ID).Order("local_part").Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("read lists: %w", err)
	}
	return ls, nil
}

// RemoveList removes the list at a with its members and requests; its
// address and command addresses are free again.
func (s *Service) RemoveList(ctx context.Context, sc Scope, a address.Address) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		l, d, err := s.listTx(tx, sc, a)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		// The foreign keys cascade on both engines; deleted in order all
		// the same so that SQLite without foreign keys leaves nothing.
		sub := tx.Model(&ListMember{}).Select("id").Where("list_id = ?", l.ID)
		if err := tx.Where("member_id IN (?)", sub).Delete(&listBounce{}).Error; err != nil {
			return fmt.Errorf("remove bounces: %w", err)
		}
		for _, m := range []any{&ListMember{}, &listRequest{}} {
			if err := tx.Where("list_id = ?", l.ID).Delete(m).Error; err != nil {
				return fmt.Errorf("remove list rows: %w", err)
			}
		}
		if err := tx.Delete(l).Error; err != nil {
			return fmt.Errorf("remove list: %w", err)
		}
		return s.audit(tx, sc, &d.ID, "list.remove", "%s", a)
	})
}

// checkMemberAddress refuses an address a list can't have: the list's own
// addresses, or another list here (a list inside a list would loop or
// multiply posts; nest lists by their posts' List-Id elsewhere).
func (s *Service) checkMemberAddress(tx *gorm.DB, l *List, d *Domain, a address.Address) error {
	var dd Domain
	err := tx.Where("name = ?", a.Domain.String()).Take(&dd).Error
	if notFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up domain %s: %w", a.Domain, err)
	}
	if dd.AliasOfID != nil {
		if err := tx.Take(&dd, *dd.AliasOfID).Error; err != nil {
			return fmt.Errorf("look up domain %d: %w", *dd.AliasOfID, err)
		}
	}
	other, _, _, err := s.listAt(tx, dd.ID, string(a.Local))
	if err != nil {
		return err
	}
	switch {
	case other == nil:
		return nil
	case other.ID == l.ID:
		return invalid("address", "%s is the list's own address; a list can't be its own member", a)
	}
	return invalid("address", "%s is a list here; a list can't be a member of another list of this server", a)
}

// AddListMembers makes addrs members of the list at list, all or none;
// addresses that are members already stay as they are. A paused or
// disabled member stays so.
func (s *Service) AddListMembers(ctx context.Context, sc Scope, list address.Address, addrs []address.Address) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		l, d, err := s.listTx(tx, sc, list)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		var n int64
		if err := tx.Model(&ListMember{}).Where("list_id = ?", l.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count members: %w", err)
		}
		if n+int64(len(addrs)) > MaxListMembers {
			return &LimitError{What: "list members", Limit: MaxListMembers}
		}
		for _, a := range addrs {
			if err := s.addMemberTx(tx, sc, l, d, a); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) addMemberTx(tx *gorm.DB, sc Scope, l *List, d *Domain, a address.Address) error {
	if err := s.checkMemberAddress(tx, l, d, a); err != nil {
		return err
	}
	key := strings.ToLower(a.String())
	var m ListMember
	err := tx.Where("list_id = ? AND address = ?", l.ID, key).Take(&m).Error
	switch {
	case notFound(err):
		m = ListMember{ListID: l.ID, Address: key, Member: true, CreatedAt: s.clock()}
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("insert member %s: %w", a, err)
		}
	case err != nil:
		return fmt.Errorf("look up member %s: %w", a, err)
	case m.Member:
		return nil
	default:
		if err := tx.Model(&m).Update("member", true).Error; err != nil {
			return fmt.Errorf("update member %s: %w", a, err)
		}
	}
	return s.audit(tx, sc, &d.ID, "list.member.add", "%s@%s: %s", l.LocalPart, d.Name, key)
}

// RemoveListMembers ends the membership of addrs in the list at list, all
// or none: an address that is no member is ErrNotFound. An owner or
// moderator keeps that role.
func (s *Service) RemoveListMembers(ctx context.Context, sc Scope, list address.Address, addrs []address.Address) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		l, d, err := s.listTx(tx, sc, list)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		for _, a := range addrs {
			ok, err := s.removeMemberTx(tx, sc, l, d, strings.ToLower(a.String()))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is no member of %s: %w", a, list, ErrNotFound)
			}
		}
		return nil
	})
}

// removeMemberTx ends one membership; ok is false when addr is no member.
func (s *Service) removeMemberTx(tx *gorm.DB, sc Scope, l *List, d *Domain, addr string) (bool, error) {
	var m ListMember
	err := tx.Where("list_id = ? AND address = ? AND member", l.ID, addr).Take(&m).Error
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up member %s: %w", addr, err)
	}
	if m.Owner || m.Moderator {
		err = tx.Model(&m).Updates(map[string]any{"member": false, "paused": false, "disabled": false}).Error
	} else {
		if err = tx.Where("member_id = ?", m.ID).Delete(&listBounce{}).Error; err == nil {
			err = tx.Delete(&m).Error
		}
	}
	if err != nil {
		return false, fmt.Errorf("remove member %s: %w", addr, err)
	}
	return true, s.audit(tx, sc, &d.ID, "list.member.remove", "%s@%s: %s", l.LocalPart, d.Name, addr)
}

// SetListMemberPaused pauses (no posts for now) or resumes a member of
// the list at list; a resumed member that bounces had been disabled is
// enabled again, its bounces forgotten.
func (s *Service) SetListMemberPaused(ctx context.Context, sc Scope, list, member address.Address, paused bool) error {
	return s.db.Write(ctx, func(tx *gorm.DB) error {
		l, d, err := s.listTx(tx, sc, list)
		if err != nil {
			return err
		}
		if !sc.mayManageDomain(d.ID) {
			return ErrForbidden
		}
		key := strings.ToLower(member.String())
		var m ListMember
		err = tx.Where("list_id = ? AND address = ? AND member", l.ID, key).Take(&m).Error
		if notFound(err) {
			return fmt.Errorf("%s is no member of %s: %w", member, list, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("look up member %s: %w", member, err)
		}
		up := map[string]any{"paused": paused}
		action := "list.member.pause"
		if !paused {
			up["disabled"] = false
			action = "list.member.resume"
			if err := tx.Where("member_id = ?", m.ID).Delete(&listBounce{}).Error; err != nil {
				return fmt.Errorf("forget bounces: %w", err)
			}
		}
		if err := tx.Model(&m).Updates(up).Error; err != nil {
			return fmt.Errorf("update member %s: %w", member, err)
		}
		return s.audit(tx, sc, &d.ID, action, "%s@%s: %s", l.LocalPart, d.Name, key)
	})
}

// ListMembers returns every address the list at list knows, in address
// order (members, owners and moderators).
func (s *Service) ListMembers(ctx context.Context, sc Scope, list address.Address) ([]ListMember, error) {
	db := s.db.Read(ctx)
	l, _, err := s.listTx(db, sc, list)
	if err != nil {
		return nil, err
	}
	var ms []ListMember
	if err := db.Where("list_id = ?", l.ID).Order("address").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	return ms, nil
}

// SearchListMembers pages through the addresses of the list at list
// (members, owners, moderators) in address order, those containing search
// when it is not empty; total counts every match.
func (s *Service) SearchListMembers(ctx context.Context, sc Scope, list address.Address, search string, limit, offset int) ([]ListMember, int64, error) {
	db := s.db.Read(ctx)
	l, _, err := s.listTx(db, sc, list)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := db.Model(&ListMember{}).Where("list_id = ?", l.ID)
	if search != "" {
		q = q.Where("address LIKE ? ESCAPE '\\'", database.Contains(strings.ToLower(search)))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count members: %w", err)
	}
	var ms []ListMember
	if err := q.Order("address").Limit(limit).Offset(max(offset, 0)).Find(&ms).Error; err != nil {
		return nil, 0, fmt.Errorf("read members: %w", err)
	}
	return ms, total, nil
}

// ---- the servers' side (system scope) ------------------------------------

// PostDecision says what becomes of a post to a list.
type PostDecision int

const (
	// PostAccept: distribute to the members.
	PostAccept PostDecision = iota
	// PostRefuse: refused (the sender may not post).
	PostRefuse
	// PostHold: held for a moderator.
	PostHold
)

// ListPoster decides whether sender may post to list l: owners and
// moderators always; members (paused or not, not disabled) on a discussion
// list, held on a moderated one; other senders are refused, or held when
// the list holds non-members' posts (never on an announce list); the null
// sender never posts (bounces and auto-replies come from it and must never
// reach a list's members).
func (s *Service) ListPoster(ctx context.Context, l *List, sender address.Address) (PostDecision, error) {
	if sender.IsZero() {
		return PostRefuse, nil
	}
	var m ListMember
	err := s.db.Read(ctx).Where("list_id = ? AND address = ?", l.ID, strings.ToLower(sender.String())).Take(&m).Error
	if err != nil && !notFound(err) {
		return PostRefuse, fmt.Errorf("look up poster %s: %w", sender, err)
	}
	member := err == nil && m.Member && !m.Disabled
	switch {
	case err == nil && (m.Owner || m.Moderator):
		return PostAccept, nil
	case l.Kind == ListAnnounce:
		return PostRefuse, nil
	case member && l.Kind == ListDiscussion:
		return PostAccept, nil
	case member && l.Kind == ListModerated:
		return PostHold, nil
	case l.NonMembers == NonMembersHold:
		return PostHold, nil
	}
	return PostRefuse, nil
}

// ListModerators returns the addresses that moderate list l: its owners
// and moderators.
func (s *Service) ListModerators(ctx context.Context, l *List) ([]string, error) {
	var out []string
	err := s.db.Read(ctx).Model(&ListMember{}).Where("list_id = ? AND (owner OR moderator)", l.ID).Order("address").Pluck("address", &out).Error
	if err != nil {
		return nil, fmt.Errorf("read moderators of list %d: %w", l.ID, err)
	}
	return out, nil
}

// Moderation actions, and how long a held post waits for one.
const (
	ModerateApprove = "approve"
	ModerateReject  = "reject"
	HeldPostTTL     = 7 * 24 * time.Hour
)

const purposeModerate = "list-moderate"

// ModerationToken is the signed token of a link that approves or rejects
// held post heldID of list l, valid as long as the post is held.
func (s *Service) ModerationToken(ctx context.Context, l *List, heldID int64, action string) (string, error) {
	g, err := s.Signer(ctx)
	if err != nil {
		return "", err
	}
	return g.Sign(purposeModerate, HeldPostTTL, strconv.FormatInt(l.ID, 10), strconv.FormatInt(heldID, 10), action), nil
}

// ModerationOf checks a moderation link's token: the list, the held post
// and the action it names. Forged or changed: ErrBadToken; old:
// ErrTokenExpired.
func (s *Service) ModerationOf(ctx context.Context, token string) (l *ListTarget, heldID int64, action string, err error) {
	g, err := s.Signer(ctx)
	if err != nil {
		return nil, 0, "", err
	}
	vals, err := g.Verify(token, purposeModerate)
	if err != nil {
		return nil, 0, "", err
	}
	if len(vals) != 3 || (vals[2] != ModerateApprove && vals[2] != ModerateReject) {
		return nil, 0, "", ErrBadToken
	}
	listID, err1 := strconv.ParseInt(vals[0], 10, 64)
	heldID, err2 := strconv.ParseInt(vals[1], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, 0, "", ErrBadToken
	}
	lt, err := s.ListTarget(ctx, listID)
	if err != nil {
		return nil, 0, "", err
	}
	return lt, heldID, vals[2], nil
}

// ListTarget returns list id as a post to it resolves (ResolveRecipient).
func (s *Service) ListTarget(ctx context.Context, id int64) (*ListTarget, error) {
	l, d, err := s.listByID(s.db.Read(ctx), id)
	if err != nil {
		return nil, err
	}
	return &ListTarget{List: *l, Address: address.Address{Local: address.Localpart(l.LocalPart), Domain: address.Domain(d.Name)}, Role: ListRolePost}, nil
}

// ListRecipients returns the members a post goes to: members neither
// paused nor disabled.
func (s *Service) ListRecipients(ctx context.Context, l *List) ([]ListMember, error) {
	var ms []ListMember
	err := s.db.Read(ctx).Where("list_id = ? AND member AND NOT paused AND NOT disabled", l.ID).Order("id").Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("read recipients of list %d: %w", l.ID, err)
	}
	return ms, nil
}

// ListArchive returns the mailbox that keeps list l's posts, as delivery
// stores into it; nil when the list has none, or its mailbox takes no mail.
func (s *Service) ListArchive(ctx context.Context, l *List) (*Target, error) {
	if l.ArchiveMailboxID == nil {
		return nil, nil
	}
	p, err := s.planFor(ctx, s.db.Read(ctx), *l.ArchiveMailboxID)
	if errors.Is(err, ErrDisabled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p.Mailbox, nil
}

// ListOwners returns the addresses of a list's owners.
func (s *Service) ListOwners(ctx context.Context, l *List) ([]string, error) {
	var out []string
	err := s.db.Read(ctx).Model(&ListMember{}).Where("list_id = ? AND owner", l.ID).Order("address").Pluck("address", &out).Error
	if err != nil {
		return nil, fmt.Errorf("read owners of list %d: %w", l.ID, err)
	}
	return out, nil
}

// Purposes of the list's signed tokens and MACs (Signer).
const (
	purposeUnsubscribe = "list-unsubscribe"
	purposeVERP        = "list-verp"
	// UnsubscribeLinkTTL is how long a one-click unsubscribe link of a
	// post works (RFC 8058 asks for links that keep working a while).
	UnsubscribeLinkTTL = 90 * 24 * time.Hour
)

// UnsubscribeToken is the signed token of member's one-click unsubscribe
// link (RFC 8058) for list l.
func (s *Service) UnsubscribeToken(ctx context.Context, l *List, member string) (string, error) {
	g, err := s.Signer(ctx)
	if err != nil {
		return "", err
	}
	return g.Sign(purposeUnsubscribe, UnsubscribeLinkTTL, strconv.FormatInt(l.ID, 10), strings.ToLower(member)), nil
}

// ListChange is what a confirmed request or link did.
type ListChange struct {
	List    string // the list's address
	Address string
	Action  string // ListRoleSubscribe, ListRoleUnsubscribe, ModerateApprove, ModerateReject
	Subject string // a held post's, for moderation links
}

// unsubscribeOf checks a one-click unsubscribe token: its list's id and
// the address.
func (s *Service) unsubscribeOf(ctx context.Context, token string) (int64, string, error) {
	g, err := s.Signer(ctx)
	if err != nil {
		return 0, "", err
	}
	vals, err := g.Verify(token, purposeUnsubscribe)
	if err != nil {
		return 0, "", err
	}
	if len(vals) != 2 {
		return 0, "", ErrBadToken
	}
	id, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil {
		return 0, "", ErrBadToken
	}
	return id, vals[1], nil
}

// UnsubscribeLink says what a one-click unsubscribe token would do,
// without doing it (the page a person opening the link sees).
func (s *Service) UnsubscribeLink(ctx context.Context, token string) (*ListChange, error) {
	id, a, err := s.unsubscribeOf(ctx, token)
	if err != nil {
		return nil, err
	}
	l, d, err := s.listByID(s.db.Read(ctx), id)
	if err != nil {
		return nil, err
	}
	return &ListChange{List: l.LocalPart + "@" + d.Name, Address: a, Action: ListRoleUnsubscribe}, nil
}

// UnsubscribeByToken ends the membership a one-click unsubscribe token
// names. Replaying it changes nothing more; a forged or changed token is
// ErrBadToken, an old one ErrTokenExpired.
func (s *Service) UnsubscribeByToken(ctx context.Context, token, remote string) (*ListChange, error) {
	id, member, err := s.unsubscribeOf(ctx, token)
	if err != nil {
		return nil, err
	}
	ch := &ListChange{Address: member, Action: ListRoleUnsubscribe}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		l, d, err := s.listByID(tx, id)
		if err != nil {
			return err
		}
		ch.List = l.LocalPart + "@" + d.Name
		sc := Scope{Role: RoleSystem, Actor: member + " (one-click unsubscribe)", RemoteAddr: remote}
		_, err = s.removeMemberTx(tx, sc, l, d, member)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func (s *Service) listByID(tx *gorm.DB, id int64) (*List, *Domain, error) {
	var l List
	err := tx.Take(&l, id).Error
	if notFound(err) {
		return nil, nil, fmt.Errorf("list %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up list %d: %w", id, err)
	}
	var d Domain
	if err := tx.Take(&d, l.DomainID).Error; err != nil {
		return nil, nil, fmt.Errorf("look up domain %d: %w", l.DomainID, err)
	}
	return &l, &d, nil
}

// VERPLocal is the local part of the envelope sender of list l's copies to
// member m: LOCAL-bounces+ID-MAC, naming the member, with a MAC so that
// only a report on a copy we sent counts against a member.
func (s *Service) VERPLocal(ctx context.Context, l *List, m *ListMember) (string, error) {
	g, err := s.Signer(ctx)
	if err != nil {
		return "", err
	}
	id := strconv.FormatInt(m.ID, 10)
	return l.LocalPart + "-" + ListRoleBounces + "+" + id + "-" + g.Short(purposeVERP, strconv.FormatInt(l.ID, 10), id), nil
}

// BounceResult says what a delivery report to a VERP address did.
type BounceResult struct {
	Member   string
	Disabled bool     // the report disabled the member
	Owners   []string // to tell, when Disabled
}

// RecordListBounce counts a hard bounce against the member a VERP argument
// (VERPLocal) names; at the list's threshold within its period the member
// is disabled. ok is false when arg names no member of l (a forged or
// stale VERP address), and nothing is counted.
func (s *Service) RecordListBounce(ctx context.Context, l *List, arg string) (res BounceResult, ok bool, err error) {
	idText, mac, found := strings.Cut(arg, "-")
	id, perr := strconv.ParseInt(idText, 10, 64)
	if !found || perr != nil {
		return res, false, nil
	}
	g, err := s.Signer(ctx)
	if err != nil {
		return res, false, err
	}
	if !strings.EqualFold(mac, g.Short(purposeVERP, strconv.FormatInt(l.ID, 10), idText)) {
		return res, false, nil
	}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		var m ListMember
		err := tx.Where("id = ? AND list_id = ?", id, l.ID).Take(&m).Error
		if notFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up member %d: %w", id, err)
		}
		ok, res.Member = true, m.Address
		now := s.clock()
		if err := tx.Create(&listBounce{MemberID: m.ID, At: now}).Error; err != nil {
			return fmt.Errorf("record bounce: %w", err)
		}
		if l.BounceThreshold <= 0 || m.Disabled {
			return nil
		}
		var n int64
		since := now.Add(-time.Duration(l.BouncePeriodDays) * 24 * time.Hour)
		if err := tx.Model(&listBounce{}).Where("member_id = ? AND at >= ?", m.ID, since).Count(&n).Error; err != nil {
			return fmt.Errorf("count bounces: %w", err)
		}
		if n < l.BounceThreshold {
			return nil
		}
		if err := tx.Model(&m).Update("disabled", true).Error; err != nil {
			return fmt.Errorf("disable member: %w", err)
		}
		res.Disabled = true
		if err := tx.Model(&ListMember{}).Where("list_id = ? AND owner", l.ID).Order("address").Pluck("address", &res.Owners).Error; err != nil {
			return fmt.Errorf("read owners: %w", err)
		}
		return s.audit(tx, SystemScope("bounces"), &l.DomainID, "list.member.disable", "%s: %d hard bounces in %d days", m.Address, n, l.BouncePeriodDays)
	})
	return res, ok, err
}

// ExportListMembersCSV writes the addresses of the list at list as CSV
// (address, member, owner, moderator, paused, disabled), every cell escaped
// with CSVCell, 1000 rows a query.
func (s *Service) ExportListMembersCSV(ctx context.Context, sc Scope, list address.Address, w io.Writer) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"address", "member", "owner", "moderator", "paused", "disabled"}); err != nil {
		return err
	}
	yes := func(b bool) string { return strconv.FormatBool(b) }
	for off := 0; ; off += 1000 {
		if err := ctx.Err(); err != nil {
			return err
		}
		ms, total, err := s.SearchListMembers(ctx, sc, list, "", 1000, off)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := cw.Write([]string{CSVCell(m.Address), yes(m.Member), yes(m.Owner), yes(m.Moderator), yes(m.Paused), yes(m.Disabled)}); err != nil {
				return err
			}
		}
		if int64(off+1000) >= total {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}
