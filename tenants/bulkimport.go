package tenants

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/auth"
)

// Bulk import limits: a file over either is refused as a whole.
const (
	MaxImportRows  = 10000
	MaxImportBytes = 8 << 20
)

// ImportColumns are the columns a bulk import file may name in its header
// line, in any order (Mailtraq's export): username and password are
// required.
var ImportColumns = []string{"username", "description", "password", "aliases"}

// ImportRow is one mailbox line of a bulk import file, as written.
type ImportRow struct {
	Line        int // line in the file where the record starts
	Username    string
	Description string
	Password    string
	Aliases     string // separated by spaces, commas or semicolons
}

// ImportProblem is what is wrong with one line; Line 0 is the whole file.
type ImportProblem struct {
	Line    int
	Field   string
	Message string
}

// ImportError refuses an import that has problems; nothing was written.
type ImportError struct{ Problems []ImportProblem }

func (e *ImportError) Error() string {
	if len(e.Problems) == 0 {
		return "import refused"
	}
	p := e.Problems[0]
	return fmt.Sprintf("import refused: %d lines with problems, first line %d: %s", len(e.Problems), p.Line, p.Message)
}

// HeaderlessColumns are the columns of a file without a header line, in
// order: Mailtraq's own export, "john","John Doe","abcd".
var HeaderlessColumns = []string{"username", "description", "password", "aliases"}

// ImportFile is a read bulk import file.
type ImportFile struct {
	Rows []ImportRow
	// Headerless: the first line named no column, so every line was read
	// as HeaderlessColumns; the preview says so before anything is written.
	Headerless bool
}

// ParseImportCSV is ParseImportFile's rows.
func ParseImportCSV(r io.Reader) ([]ImportRow, error) {
	f, err := ParseImportFile(r)
	if err != nil {
		return nil, err
	}
	return f.Rows, nil
}

// ParseImportFile reads a bulk import file: UTF-8 with or without a byte
// order mark, CRLF or LF line ends, RFC 4180 quoting (commas and line
// breaks inside quoted cells), a header line naming the columns, or no
// header line at all when the first line names none of them (read as
// HeaderlessColumns). A file over MaxImportBytes or MaxImportRows, or one
// that is not CSV, is refused as a whole with a ValidationError of field
// "file". Cells are kept as written: one starting with = + - or @ is not a
// formula here.
func ParseImportFile(r io.Reader) (*ImportFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read import file: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, invalid("file", "the file is larger than %d MiB; split it", MaxImportBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, invalid("file", "the file is empty; it needs a header line naming the columns %s", strings.Join(ImportColumns, ", "))
	}
	if err != nil {
		return nil, invalid("file", "not a CSV file: %v", err)
	}
	col := map[string]int{}
	known := func(h string) bool {
		name := strings.ToLower(strings.TrimSpace(h))
		for _, c := range ImportColumns {
			if c == name {
				return true
			}
		}
		return false
	}
	headerless := len(header) >= 3 && len(header) <= len(HeaderlessColumns)
	for _, h := range header {
		headerless = headerless && !known(h)
	}
	if headerless {
		header = HeaderlessColumns[:len(header)]
	}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !known(h) {
			return nil, invalid("file", "unknown column %q in the header line; the columns are %s", truncate(h, 40), strings.Join(ImportColumns, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, invalid("file", "column %q is named twice", name)
		}
		col[name] = i
	}
	for _, need := range []string{"username", "password"} {
		if _, ok := col[need]; !ok {
			return nil, invalid("file", "the header line has no %q column", need)
		}
	}
	cell := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	var rows []ImportRow
	if headerless {
		cr = csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalid("file", "not a CSV file: %v", err)
		}
		if len(rows) == MaxImportRows {
			return nil, invalid("file", "more than %d lines; split the file", MaxImportRows)
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, ImportRow{
			Line:        line,
			Username:    strings.TrimSpace(cell(rec, "username")),
			Description: strings.TrimSpace(cell(rec, "description")),
			Password:    cell(rec, "password"),
			Aliases:     cell(rec, "aliases"),
		})
	}
	if len(rows) == 0 {
		return nil, invalid("file", "the file has a header line but no mailboxes")
	}
	return &ImportFile{Rows: rows, Headerless: headerless}, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// ImportPlan is a checked import: the mailboxes it would add and the
// problems that stop it. An import with problems writes nothing.
type ImportPlan struct {
	Mailboxes []PlannedMailbox
	Problems  []ImportProblem
	Template  string // the template mailbox's address, "" for the defaults
}

// PlannedMailbox is one mailbox an import would add.
type PlannedMailbox struct {
	Line     int
	Address  string
	FullName string
	Aliases  []string
	in       NewMailbox
}

// CheckImport checks an import into domain without writing anything. A
// username without @ is a local part of domain; a full address must be in
// domain, unless the scope reaches every domain (a system administrator),
// where it may name any hosted domain. New mailboxes copy the settings of
// the template mailbox (a local part of domain; empty for the defaults),
// never its postmaster permission.
func (s *Service) CheckImport(ctx context.Context, sc Scope, domain address.Domain, template address.Localpart, rows []ImportRow) (*ImportPlan, error) {
	if sc.Role == RoleUser || !sc.valid() {
		return nil, ErrForbidden
	}
	if len(rows) == 0 {
		return nil, invalid("file", "the file has no mailboxes")
	}
	if len(rows) > MaxImportRows {
		return nil, invalid("file", "more than %d lines; split the file", MaxImportRows)
	}
	db := s.db.Read(ctx)
	home, err := s.domainTx(db, sc, domain)
	if err != nil {
		return nil, err
	}
	if !sc.mayManageDomain(home.ID) {
		return nil, ErrForbidden
	}
	plan := &ImportPlan{}
	settings := DefaultMailboxSettings()
	if template != "" {
		ta := address.Address{Local: template, Domain: domain}
		tm, err := s.mailboxTx(db, sc, ta)
		if errors.Is(err, ErrNotFound) {
			return nil, invalid("template", "%s is not a mailbox", ta)
		}
		if err != nil {
			return nil, err
		}
		settings = SettingsOf(tm)
		settings.Postmaster = false
		settings.StoreMail = true // a new mailbox has no forwards yet
		plan.Template = ta.String()
	}

	// Checks that need no database, on the import slots: the strength
	// check is the slow part.
	checked := make([]checkedRow, len(rows))
	err = s.forEachRow(ctx, len(rows), func(i int) {
		checked[i] = checkImportRow(rows[i], domain, settings)
	})
	if err != nil {
		return nil, fmt.Errorf("check import: %w", err)
	}

	// Domains named by full addresses, each looked up once, within the scope.
	domains := map[address.Domain]*Domain{domain: home}
	claimed := map[string]int{} // domain \x00 local -> line
	type claim struct {
		row   int
		local address.Localpart
		alias bool
	}
	byDomain := map[address.Domain][]claim{}
	for i := range checked {
		c := &checked[i]
		if c.problem != nil {
			continue
		}
		a := c.in.Address
		if a.Domain != domain && !sc.AllDomains() {
			c.fail("username", "%s is not in your domain %s", a, domain)
			continue
		}
		d, ok := domains[a.Domain]
		if !ok {
			d, err = s.domainTx(db, sc, a.Domain)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			domains[a.Domain] = d
		}
		switch {
		case d == nil:
			c.fail("username", "domain %s is not hosted here", a.Domain)
			continue
		case !sc.mayManageDomain(d.ID):
			c.fail("username", "%s is not in your domain %s", a, domain)
			continue
		case d.AliasOfID != nil:
			c.fail("username", "%s is an alias domain; add mailboxes to its primary domain", d.Name)
			continue
		}
		locals := append([]address.Localpart{a.Local}, c.in.Aliases...)
		for j, l := range locals {
			k := a.Domain.String() + "\x00" + string(l)
			field := "username"
			if j > 0 {
				field = "aliases"
			}
			if other, dup := claimed[k]; dup {
				c.fail(field, "%s@%s is also on line %d", l, a.Domain, other)
				break
			}
			claimed[k] = c.line
		}
		if c.problem != nil {
			continue
		}
		for j, l := range locals {
			byDomain[a.Domain] = append(byDomain[a.Domain], claim{row: i, local: l, alias: j > 0})
		}
	}

	// What already exists, and the domains' limits, per domain.
	for dn, cs := range byDomain {
		d := domains[dn]
		locals := make([]string, len(cs))
		for i, c := range cs {
			locals[i] = string(c.local)
		}
		taken := map[string]bool{}
		for start := 0; start < len(locals); start += 500 {
			var got []string
			err := db.Model(&addressRow{}).Where("domain_id = ? AND local_part IN ?", d.ID, locals[start:min(start+500, len(locals))]).
				Pluck("local_part", &got).Error
			if err != nil {
				return nil, fmt.Errorf("check addresses: %w", err)
			}
			for _, g := range got {
				taken[g] = true
			}
		}
		lists, err := s.listLocals(db, d.ID)
		if err != nil {
			return nil, err
		}
		var mailboxes, aliases int64
		if err := db.Model(&Mailbox{}).Where("domain_id = ?", d.ID).Count(&mailboxes).Error; err != nil {
			return nil, fmt.Errorf("count mailboxes: %w", err)
		}
		if err := db.Model(&addressRow{}).Where("domain_id = ? AND is_alias", d.ID).Count(&aliases).Error; err != nil {
			return nil, fmt.Errorf("count aliases: %w", err)
		}
		for _, c := range cs {
			row := &checked[c.row]
			if row.problem != nil {
				continue
			}
			field := "username"
			if c.alias {
				field = "aliases"
			}
			if taken[string(c.local)] {
				var ce *ConflictError
				if err := s.conflict(db, d, c.local); errors.As(err, &ce) {
					row.fail(field, "%s", ce.Error())
				}
				continue
			}
			if held := slices.ContainsFunc(listHolders(string(c.local)), func(l string) bool { return lists[l] }); held {
				row.fail(field, "%s", (&ConflictError{Address: string(c.local) + "@" + d.Name, Holder: "a mailing list"}).Error())
				continue
			}
			if c.alias {
				aliases++
				if d.MaxAliases > 0 && aliases > d.MaxAliases {
					row.fail(field, "%s", (&LimitError{What: "aliases", Limit: d.MaxAliases}).Error())
				}
			} else {
				mailboxes++
				if d.MaxMailboxes > 0 && mailboxes > d.MaxMailboxes {
					row.fail(field, "%s", (&LimitError{What: "mailboxes", Limit: d.MaxMailboxes}).Error())
				}
			}
		}
	}

	for _, c := range checked {
		if c.problem != nil {
			plan.Problems = append(plan.Problems, *c.problem)
			continue
		}
		pm := PlannedMailbox{Line: c.line, Address: c.in.Address.String(), FullName: c.in.FullName, in: c.in}
		for _, a := range c.in.Aliases {
			pm.Aliases = append(pm.Aliases, string(a)+"@"+c.in.Address.Domain.String())
		}
		plan.Mailboxes = append(plan.Mailboxes, pm)
	}
	sort.SliceStable(plan.Problems, func(i, j int) bool { return plan.Problems[i].Line < plan.Problems[j].Line })
	return plan, nil
}

// forEachRow calls fn for each of n rows of a bulk import, on at most as
// many goroutines as the Service has import slots. Each row takes a slot,
// shared by every import of the Service, so that concurrent imports queue
// rather than multiply the CPU they take, and none takes more than half the
// cores. It stops between rows once ctx is done (the browser went away)
// and returns ctx's error then, with the rows not all done.
func (s *Service) forEachRow(ctx context.Context, n int, fn func(i int)) error {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(n, cap(s.importSlots)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case s.importSlots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					<-s.importSlots
					return
				}
				fn(i)
				done.Add(1)
				<-s.importSlots
			}
		}()
	}
	wg.Wait()
	if int(done.Load()) == n {
		return nil
	}
	return context.Cause(ctx)
}

type checkedRow struct {
	line    int
	in      NewMailbox
	problem *ImportProblem
}

func (c *checkedRow) fail(field, format string, args ...any) {
	if c.problem == nil {
		c.problem = &ImportProblem{Line: c.line, Field: field, Message: fmt.Sprintf(format, args...)}
	}
}

// checkImportRow checks what one row can tell by itself.
func checkImportRow(r ImportRow, domain address.Domain, st MailboxSettings) checkedRow {
	c := checkedRow{line: r.Line}
	problem := func(err error) {
		var ve *ValidationError
		if errors.As(err, &ve) {
			c.fail(ve.Field, "%s", ve.Message)
		} else {
			c.fail("", "%v", err)
		}
	}
	var a address.Address
	switch {
	case r.Username == "":
		c.fail("username", "a username is required")
		return c
	case strings.Contains(r.Username, "@"):
		var err error
		if a, err = address.ParseAddress(r.Username); err != nil {
			c.fail("username", "%v", err)
			return c
		}
	default:
		lp, err := address.ParseLocalpart(r.Username)
		if err != nil {
			c.fail("username", "%v", err)
			return c
		}
		a = address.Address{Local: lp, Domain: domain}
	}
	if err := address.ValidMailboxName(a.Local); err != nil {
		c.fail("username", "%v", err)
		return c
	}
	if err := checkText("description", r.Description, 200); err != nil {
		problem(err)
		return c
	}
	if r.Password == "" {
		c.fail("password", "a password is required")
		return c
	}
	if err := auth.CheckStrength(r.Password, string(a.Local), a.Domain.String(), r.Description); err != nil {
		var w *auth.WeakPasswordError
		if errors.As(err, &w) {
			c.fail("password", "%s", w.Reason)
		} else {
			c.fail("password", "%v", err)
		}
		return c
	}
	var aliases []address.Localpart
	for _, f := range strings.FieldsFunc(r.Aliases, func(r rune) bool { return r == ' ' || r == ';' || r == ',' || r == '\t' }) {
		var lp address.Localpart
		if strings.Contains(f, "@") {
			aa, err := address.ParseAddress(f)
			if err != nil {
				c.fail("aliases", "%v", err)
				return c
			}
			if aa.Domain != a.Domain {
				c.fail("aliases", "alias %s is not in the mailbox's domain %s", aa, a.Domain)
				return c
			}
			lp = aa.Local
		} else {
			var err error
			if lp, err = address.ParseLocalpart(f); err != nil {
				c.fail("aliases", "%v", err)
				return c
			}
		}
		if err := address.ValidMailboxName(lp); err != nil {
			c.fail("aliases", "%v", err)
			return c
		}
		aliases = append(aliases, lp)
	}
	c.in = NewMailbox{Address: a, Password: r.Password, FullName: r.Description, Settings: st, Aliases: aliases}
	return c
}

// Import checks an import as CheckImport does and, when no line has a
// problem, adds every mailbox with its aliases in one transaction: all of
// them or, on any error, none. It returns the plan it carried out, or an
// *ImportError listing the problems.
//
// Passwords are hashed with a cheaper argon2id cost than a single new
// mailbox gets, so that thousands of lines import in reasonable time; each
// is rehashed at the full cost at its first login (auth.Hasher.Verify
// reports such hashes as not current).
func (s *Service) Import(ctx context.Context, sc Scope, domain address.Domain, template address.Localpart, rows []ImportRow) (*ImportPlan, error) {
	plan, err := s.CheckImport(ctx, sc, domain, template, rows)
	if err != nil {
		return nil, err
	}
	if len(plan.Problems) > 0 {
		return nil, &ImportError{Problems: plan.Problems}
	}
	prepared := make([]*preparedMailbox, len(plan.Mailboxes))
	hasher := importHasher(s.hasher)
	errs := make([]error, len(plan.Mailboxes))
	err = s.forEachRow(ctx, len(plan.Mailboxes), func(i int) {
		h, err := hasher.Hash(plan.Mailboxes[i].in.Password)
		prepared[i], errs[i] = &preparedMailbox{in: plan.Mailboxes[i].in, hash: h}, err
	})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hash passwords: %w", err)
	}
	err = s.db.Write(ctx, func(tx *gorm.DB) error {
		for i, p := range prepared {
			if _, err := s.insertMailbox(tx, sc, p); err != nil {
				return fmt.Errorf("line %d: %w", plan.Mailboxes[i].Line, err)
			}
		}
		d, err := s.domainTx(tx, sc, domain)
		if err != nil {
			return err
		}
		return s.audit(tx, sc, &d.ID, "mailbox.import", "%d mailboxes into %s", len(prepared), d.Name)
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// importHasher is h at a lower cost for bulk imports: one pass, at most
// 4 MiB.
func importHasher(h auth.Hasher) auth.Hasher {
	h.Time = 1
	h.MemoryKiB = min(h.MemoryKiB, 4096)
	return h
}

// CSVCell makes a value safe to open in a spreadsheet: a cell starting with
// = + - @ (or a tab or carriage return) would be taken as a formula, so it
// gets a leading apostrophe (OWASP's CSV injection advice). Stored values
// are never changed; only exports escape.
func CSVCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ExportMailboxesCSV writes a domain's mailboxes in the import's format
// (username, description, aliases; never passwords), every cell escaped
// with CSVCell.
func (s *Service) ExportMailboxesCSV(ctx context.Context, sc Scope, domain address.Domain, w io.Writer) error {
	if sc.Role == RoleUser {
		return ErrForbidden
	}
	aliases := map[string][]string{}
	for off := 0; ; off += 1000 {
		as, total, err := s.SearchAliases(ctx, sc, domain, "", 1000, off)
		if err != nil {
			return err
		}
		for _, a := range as {
			local, _, _ := strings.Cut(a.Address, "@")
			aliases[a.Mailbox] = append(aliases[a.Mailbox], local)
		}
		if int64(off+1000) >= total {
			break
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"username", "description", "aliases"}); err != nil {
		return err
	}
	for off := 0; ; off += 1000 {
		ms, total, err := s.Mailboxes(ctx, sc, MailboxQuery{Domain: domain, Limit: 1000, Offset: off})
		if err != nil {
			return err
		}
		for _, m := range ms {
			rec := []string{CSVCell(m.LocalPart), CSVCell(m.FullName), CSVCell(strings.Join(aliases[m.Address], " "))}
			if err := cw.Write(rec); err != nil {
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
