// Package layout_test holds the module's layout rules (README, "Layout")
// as a test, so that a file breaking one fails `go test ./...` instead of
// waiting for a review.
package layout_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/postdesk/postdesk"

// testSupport are the packages that exist for tests: only _test.go files
// and the other test-support packages import them.
var testSupport = []string{
	module + "/mailsvc/mailtest",
	module + "/browsertest",
	module + "/panel/paneltest",
	module + "/tenants/tenantstest",
}

// viewsMayImport are the imports allowed in views besides the standard
// library and views' own packages: views only render, so templ is all they
// need from outside.
var viewsMayImport = []string{
	"github.com/a-h/templ",         // components and their helpers (templ.SafeURL, templ.Attributes)
	"github.com/a-h/templ/runtime", // what `templ generate` writes into every *_templ.go
}

// rule is what the Go files under dir (a path relative to the module
// root, with all its subdirectories) may not import; tests counts too:
// panel's tests importing mailsvc tie panel to mailsvc as much as its
// code would, so tests that need both live in e2e.
type rule struct {
	dir    string
	why    string
	refuse func(imp string) bool
	// codeOnly leaves _test.go files out of the rule.
	codeOnly bool
}

func under(p string) func(string) bool {
	return func(imp string) bool { return imp == p || strings.HasPrefix(imp, p+"/") }
}

var rules = []rule{
	{dir: "panel", why: "panel and mailsvc depend on tenants, never on each other", refuse: under(module + "/mailsvc")},
	{dir: "mailsvc", why: "panel and mailsvc depend on tenants, never on each other", refuse: under(module + "/panel")},
	{dir: "tenants", why: "tenants is the model under panel and mailsvc", refuse: func(imp string) bool {
		return under(module+"/panel")(imp) || under(module+"/mailsvc")(imp)
	}},
	{dir: "views", why: "views only render: templ, the standard library and views' own packages", refuse: func(imp string) bool {
		if isStd(imp) || under(module+"/views")(imp) {
			return false
		}
		for _, p := range viewsMayImport {
			if imp == p {
				return false
			}
		}
		return true
	}},
	// Test-support packages: mailtest serves mailsvc's and cmd's tests,
	// browsertest is shared by panel's and cmd's tests without a
	// dependency between panel and mailsvc.
	{dir: "mailsvc/mailtest", why: "mailtest drives mailsvc, not the panel", codeOnly: true, refuse: func(imp string) bool {
		return under(module+"/panel")(imp) || under(module+"/views")(imp) || under(module+"/cmd")(imp)
	}},
	{dir: "browsertest", why: "browsertest imports nothing of Postdesk", codeOnly: true, refuse: under(module)},
}

// isStd reports whether imp is in the standard library: its first element
// has no dot, unlike every module path.
func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func TestLayout(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := map[string]int{} // Go files read per rule directory
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "third_party") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		isTest := strings.HasSuffix(rel, "_test.go")
		dir := filepath.ToSlash(filepath.Dir(rel))
		supportFile := false
		for _, p := range testSupport {
			if module+"/"+dir == p {
				supportFile = true
			}
		}
		for _, r := range rules {
			if dir == r.dir || strings.HasPrefix(dir, r.dir+"/") {
				checked[r.dir]++
			}
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			for _, r := range rules {
				if dir != r.dir && !strings.HasPrefix(dir, r.dir+"/") {
					continue
				}
				if (!isTest || !r.codeOnly) && r.refuse(imp) {
					t.Errorf("%s imports %s: %s", rel, imp, r.why)
				}
			}
			for _, p := range testSupport {
				if imp == p && !isTest && !supportFile {
					t.Errorf("%s imports %s, which only tests and test-support packages may import", rel, imp)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A rule that read no file guards nothing: a moved directory must
	// move its rule too.
	for _, r := range rules {
		if checked[r.dir] == 0 {
			t.Errorf("no Go file under %s/", r.dir)
		}
	}
}
