package tenants_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/database"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	"github.com/postdesk/postdesk/tenants/tenantstest"
)

func TestParseImportCSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []tenants.ImportRow
		err  string
	}{
		{
			name: "BOM, CRLF, columns in any order, quoted comma and line break",
			in: "\xef\xbb\xbfpassword,Username,description,aliases\r\n" +
				"Xk9#mq2!pLw7z,ann,\"Smith, Ann\",a1 a2;a3\r\n" +
				"Xk9#mq2!pLw7y,bob,\"two\r\nlines\",\r\n",
			want: []tenants.ImportRow{
				{Line: 2, Username: "ann", Description: "Smith, Ann", Password: "Xk9#mq2!pLw7z", Aliases: "a1 a2;a3"},
				{Line: 3, Username: "bob", Description: "two\nlines", Password: "Xk9#mq2!pLw7y"},
			},
		},
		{
			name: "LF endings, formula-looking cells kept as written, short rows",
			in:   "username,password,description\n=cmd,+pw-1234567,@SUM(A1)\n-x,pw\n",
			want: []tenants.ImportRow{
				{Line: 2, Username: "=cmd", Password: "+pw-1234567", Description: "@SUM(A1)"},
				{Line: 3, Username: "-x", Password: "pw"},
			},
		},
		{
			name: "Mailtraq's own form, no header line: username, description, password",
			in:   "\"john\",\"John Doe\",\"Xk9#mq2!pLw7z\"\r\n\"jane\",\"\",\"Xk9#mq2!pLw7y\"\r\n",
			want: []tenants.ImportRow{
				{Line: 1, Username: "john", Description: "John Doe", Password: "Xk9#mq2!pLw7z"},
				{Line: 2, Username: "jane", Password: "Xk9#mq2!pLw7y"},
			},
		},
		{name: "two cells and no header line", in: "john,Xk9#mq2!pLw7z\n", err: `unknown column "john"`},
		{name: "empty", in: "", err: "empty"},
		{name: "no rows", in: "username,password\n", err: "no mailboxes"},
		{name: "unknown column", in: "username,password,pasword\n", err: `unknown column "pasword"`},
		{name: "no password column", in: "username,description\nann,Ann\n", err: `no "password" column`},
		{name: "twice", in: "username,password,username\n", err: "named twice"},
		{name: "bad quoting", in: "username,password\n\"ann,pw\n", err: "not a CSV file"},
		{name: "too many rows", in: "username,password\n" + strings.Repeat("a,b\n", tenants.MaxImportRows+1), err: "more than 10000 lines"},
		{name: "too large", in: "username,password\n" + strings.Repeat("x", tenants.MaxImportBytes), err: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := tenants.ParseImportCSV(strings.NewReader(tc.in))
			if tc.err != "" {
				var ve *tenants.ValidationError
				if !errors.As(err, &ve) || ve.Field != "file" || !strings.Contains(ve.Message, tc.err) {
					t.Fatalf("got %v, want a file error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(rows) != fmt.Sprint(tc.want) {
				t.Errorf("got  %+v\nwant %+v", rows, tc.want)
			}
		})
	}
}

// importFx is a database with domains a.test (its postmaster's scope) and
// b.test, and a template mailbox in a.test.
type importFx struct {
	t     *testing.T
	s     *tenants.Service
	admin tenants.Scope
	pmA   tenants.Scope
}

func newImportFx(t *testing.T, db *database.DB) *importFx {
	f := &importFx{t: t, s: tenantstest.Service(db, nil), admin: tenants.SystemScope("test")}
	ctx := context.Background()
	for _, d := range []address.Domain{"a.test", "b.test"} {
		if _, err := f.s.CreateDomain(ctx, f.admin, d, ""); err != nil {
			t.Fatal(err)
		}
	}
	st := tenants.DefaultMailboxSettings()
	st.QuotaBytes, st.MaySend, st.Postmaster = 2<<30, false, true
	exp := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	st.ExpiresAt = &exp
	tm, err := f.s.CreateMailbox(ctx, f.admin, tenants.NewMailbox{Address: address.Address{Local: "template", Domain: "a.test"}, Password: "Xk9#mq2!pLw7z", Settings: st})
	if err != nil {
		t.Fatal(err)
	}
	f.pmA = tenants.Scope{Role: tenants.RolePostmaster, Actor: "template@a.test", DomainID: tm.DomainID}
	if _, err := f.s.CreateMailbox(ctx, f.admin, tenants.NewMailbox{Address: address.Address{Local: "taken", Domain: "a.test"}, Password: "Xk9#mq2!pLw7z", Settings: tenants.DefaultMailboxSettings()}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddAlias(ctx, f.admin, address.Address{Local: "sales", Domain: "a.test"}, address.Address{Local: "taken", Domain: "a.test"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *importFx) count(domain address.Domain) int64 {
	f.t.Helper()
	_, n, err := f.s.Mailboxes(context.Background(), f.admin, tenants.MailboxQuery{Domain: domain, Limit: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestImportProblemsWriteNothing(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newImportFx(t, db)
		ctx := context.Background()
		file := "username,password,description,aliases\n" +
			"good,Xk9#mq2!pLw7a,Good One,g1 g2\n" + // line 2
			"weak,password,Weak,\n" + // 3
			"bob@b.test,Xk9#mq2!pLw7b,Other tenant,\n" + // 4
			"taken,Xk9#mq2!pLw7c,,\n" + // 5
			"new1,Xk9#mq2!pLw7d,,sales\n" + // 6
			"good,Xk9#mq2!pLw7e,Twice,\n" + // 7
			"bad name,Xk9#mq2!pLw7f,,\n" + // 8
			"hdr,Xk9#mq2!pLw7g,\"line\r\nbreak\",\n" + // 9
			"=1+2,Xk9#mq2!pLw7h,,\n" + // 11 (the quoted line break)
			"nosuch@c.test,Xk9#mq2!pLw7i,,\n" // 12
		rows, err := tenants.ParseImportCSV(strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := f.s.CheckImport(ctx, f.pmA, "a.test", "template", rows)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]string{}
		for _, p := range plan.Problems {
			got[p.Line] = p.Field + ": " + p.Message
		}
		want := map[int]string{
			3:  "password: ",
			4:  "username: bob@b.test is not in your domain a.test",
			5:  "username: address taken@a.test is already taken by a mailbox",
			6:  "aliases: address sales@a.test is already taken by an alias of taken@a.test",
			7:  "username: good@a.test is also on line 2",
			8:  "username: ",
			9:  "description: must be on one line",
			11: "username: ",
			12: "username: nosuch@c.test is not in your domain a.test",
		}
		for line, w := range want {
			if !strings.HasPrefix(got[line], w) {
				t.Errorf("line %d: got %q, want %q...", line, got[line], w)
			}
		}
		if len(plan.Problems) != len(want) || len(plan.Mailboxes) != 1 || plan.Mailboxes[0].Address != "good@a.test" {
			t.Errorf("plan: %d problems %v, mailboxes %+v", len(plan.Problems), got, plan.Mailboxes)
		}
		before := f.count("a.test")
		_, err = f.s.Import(ctx, f.pmA, "a.test", "template", rows)
		var ie *tenants.ImportError
		if !errors.As(err, &ie) || len(ie.Problems) != len(want) {
			t.Fatalf("Import: %v", err)
		}
		if n := f.count("a.test"); n != before {
			t.Errorf("a refused import wrote %d mailboxes", n-before)
		}
		if n := f.count("b.test"); n != 0 {
			t.Errorf("b.test has %d mailboxes", n)
		}
		// An administrator may import full addresses of any hosted domain.
		rows, _ = tenants.ParseImportCSV(strings.NewReader("username,password\nbob@b.test,Xk9#mq2!pLw7b\nann,Xk9#mq2!pLw7c\n"))
		if _, err := f.s.Import(ctx, f.admin, "a.test", "", rows); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Mailbox(ctx, f.admin, address.Address{Local: "bob", Domain: "b.test"}); err != nil {
			t.Error(err)
		}
	})
}

// TestImport5000 imports 5,000 mailboxes with aliases in one go, copying
// the template's settings, and checks they can log in.
func TestImport5000(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newImportFx(t, db)
		ctx := context.Background()
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.UseCRLF = true
		w.Write([]string{"description", "username", "aliases", "password"})
		for i := range 5000 {
			w.Write([]string{fmt.Sprintf("User %d, Imported", i), fmt.Sprintf("user%04d", i), fmt.Sprintf("u%04d;alias%04d", i, i), fmt.Sprintf("Qz7!vr%04dKp#w", i)})
		}
		w.Flush()
		rows, err := tenants.ParseImportCSV(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		plan, err := f.s.Import(ctx, f.pmA, "a.test", "template", rows)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("imported %d mailboxes in %v", len(plan.Mailboxes), time.Since(start))
		if n := f.count("a.test"); n != 5002 {
			t.Errorf("a.test has %d mailboxes, want 5002", n)
		}
		m, err := f.s.Mailbox(ctx, f.admin, address.Address{Local: "user4999", Domain: "a.test"})
		if err != nil {
			t.Fatal(err)
		}
		if m.QuotaBytes != 2<<30 || m.MaySend || m.Postmaster || m.ExpiresAt == nil || !m.StoreMail || m.FullName != "User 4999, Imported" {
			t.Errorf("template settings not copied (or postmaster copied): %+v", m)
		}
		as, err := f.s.Aliases(ctx, f.admin, "a.test", address.Address{Local: "user4999", Domain: "a.test"})
		if err != nil || len(as) != 2 {
			t.Errorf("aliases %v %v", as, err)
		}
		if _, err := f.s.ResolveLogin(ctx, tenants.PanelLogin, "alias0007/a.test", "Qz7!vr0007Kp#w", "192.0.2.1"); err != nil {
			t.Errorf("imported mailbox can't log in: %v", err)
		}
		es, _, err := f.s.AuditRecords(ctx, f.pmA, tenants.AuditQuery{Limit: 1})
		if err != nil || len(es) != 1 || es[0].Action != "mailbox.import" || es[0].Domain != "a.test" {
			t.Errorf("audit %+v %v", es, err)
		}
	})
}

func TestExportEscapesFormulas(t *testing.T) {
	tenantstest.ForEachEngine(t, func(t *testing.T, db *database.DB) {
		f := newImportFx(t, db)
		ctx := context.Background()
		rows, err := tenants.ParseImportCSV(strings.NewReader("username,password,description,aliases\n-dash,Xk9#mq2!pLw7a,\"=HYPERLINK(\"\"x\"\")\",+plus\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Import(ctx, f.pmA, "a.test", "", rows); err != nil {
			t.Fatal(err)
		}
		m, err := f.s.Mailbox(ctx, f.pmA, address.Address{Local: "-dash", Domain: "a.test"})
		if err != nil || m.FullName != `=HYPERLINK("x")` {
			t.Fatalf("stored %+v %v", m, err)
		}
		var out strings.Builder
		if err := f.s.ExportMailboxesCSV(ctx, f.pmA, "a.test", &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `'-dash,"'=HYPERLINK(""x"")",'+plus`) {
			t.Errorf("export:\n%s", out.String())
		}
		if strings.Contains(out.String(), "Xk9") {
			t.Error("export holds a password")
		}
		if err := f.s.ExportMailboxesCSV(ctx, f.pmA, "b.test", &out); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("export of another domain: %v", err)
		}
	})
}
