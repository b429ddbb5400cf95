package postmaster

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/panel/viewmodel"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
	vpm "github.com/postdesk/postdesk/views/postmaster"
)

// previewRows is how many lines the preview table shows; every problem is
// shown whatever its line.
const previewRows = 500

// importPreview checks an uploaded file and shows what it would do, with a
// message for each bad line. Nothing is written.
func (h handlers) importPreview(c echo.Context) error {
	_, name, err := h.domain(c)
	if err != nil {
		return err
	}
	vm, err := h.importPage(c, name)
	if err != nil {
		return err
	}
	vm.Template = strings.TrimSpace(c.FormValue("template"))
	fh, err := c.FormFile("file")
	if err != nil {
		vm.Errors = map[string]string{"file": "choose a CSV file"}
		return request.Render(c, http.StatusUnprocessableEntity, vpm.Import(vm))
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, tenants.MaxImportBytes+1))
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	return h.showPreview(c, &vm, name, string(data), "")
}

// showPreview parses and checks a file and renders the preview. A file
// that can be imported is kept on the server for the confirmation (under
// upload, when it is kept already), which names it by its token alone.
func (h handlers) showPreview(c echo.Context, vm *vpm.ImportPage, name address.Domain, data, upload string) error {
	file, template, err := parseImport(vm.Template, data)
	if err == nil {
		var plan *tenants.ImportPlan
		plan, err = h.Tenants.CheckImport(c.Request().Context(), request.IdentityOf(c).Scope, name, template, file.Rows)
		if err == nil {
			vm.Preview = preview(file.Rows, plan)
			if file.Headerless {
				vm.Preview.Headerless = "This file has no header line, so its columns were read as " +
					strings.Join(tenants.HeaderlessColumns[:3], ", ") + " (then aliases, if there is a fourth): check the preview before you import."
			}
			status := http.StatusOK
			if !vm.Preview.CanWrite {
				status = http.StatusUnprocessableEntity
			} else if upload == "" {
				upload, err = h.Imports.KeepImport(c, request.ImportUpload{Domain: name.String(), Template: vm.Template, CSV: data})
				if err != nil {
					return err
				}
			}
			vm.Preview.Upload = upload
			return request.Render(c, status, vpm.Import(*vm))
		}
	}
	if !request.MergeErrors(&vm.Errors, err) {
		return request.Status(err)
	}
	return request.Render(c, http.StatusUnprocessableEntity, vpm.Import(*vm))
}

func parseImport(template, data string) (*tenants.ImportFile, address.Localpart, error) {
	var lp address.Localpart
	if template != "" {
		var err error
		if lp, err = address.ParseLocalpart(template); err != nil {
			return nil, "", &tenants.ValidationError{Field: "template", Message: err.Error()}
		}
	}
	f, err := tenants.ParseImportFile(strings.NewReader(data))
	return f, lp, err
}

func preview(rows []tenants.ImportRow, plan *tenants.ImportPlan) *vpm.ImportPreview {
	p := &vpm.ImportPreview{CanWrite: len(plan.Problems) == 0 && len(plan.Mailboxes) > 0}
	problems := map[int]tenants.ImportProblem{}
	for _, pr := range plan.Problems {
		problems[pr.Line] = pr
	}
	planned := map[int]tenants.PlannedMailbox{}
	for _, m := range plan.Mailboxes {
		planned[m.Line] = m
	}
	shown := 0
	for _, r := range rows {
		pr, bad := problems[r.Line]
		if !bad && shown >= previewRows {
			continue
		}
		row := vpm.ImportRow{Line: strconv.Itoa(r.Line), Address: r.Username, FullName: r.Description, Aliases: r.Aliases}
		if m, ok := planned[r.Line]; ok {
			row.Address, row.Aliases = m.Address, strings.Join(m.Aliases, " ")
		}
		if bad {
			row.Problem = pr.Field + ": " + pr.Message
		}
		p.Rows = append(p.Rows, row)
		shown++
	}
	if len(rows) > len(p.Rows) {
		p.Shown = fmt.Sprintf("Showing %d of %d lines: every line with a problem, then the first good ones.", len(p.Rows), len(rows))
	}
	tmpl := "the default settings"
	if plan.Template != "" {
		tmpl = "the settings of " + plan.Template
	}
	switch {
	case len(plan.Problems) > 0:
		p.Summary = fmt.Sprintf("%s with problems, %s fine. Correct the file and upload it again: nothing is imported while any line has a problem.",
			viewmodel.Count(int64(len(plan.Problems)), "line", "lines"), viewmodel.Count(int64(len(plan.Mailboxes)), "line", "lines"))
	default:
		p.Summary = fmt.Sprintf("%s to add, with %s.", viewmodel.Count(int64(len(plan.Mailboxes)), "mailbox", "mailboxes"), tmpl)
	}
	return p
}

// importProblems turns a refused import into the preview's errors.
func importProblems(err error) (*tenants.ImportError, bool) {
	var ie *tenants.ImportError
	ok := errors.As(err, &ie)
	return ie, ok
}
