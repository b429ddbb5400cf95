package mailtest_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/postdesk/postdesk"

// TestImports keeps the module's test-support packages where they belong:
// only _test.go files import mailsvc/mailtest and browsertest (both import
// testing), mailtest never imports panel, views or cmd, and browsertest
// imports nothing of Postdesk, so that panel and cmd tests share it without
// a dependency between panel and mailsvc.
func TestImports(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	testOnly := []string{module + "/mailsvc/mailtest", module + "/browsertest"}
	forbidden := map[string][]string{
		"mailsvc/mailtest": {module + "/panel", module + "/views", module + "/cmd"},
		"browsertest":      {module},
	}
	fset := token.NewFileSet()
	checked := 0
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
		checked++
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		isTest := strings.HasSuffix(path, "_test.go")
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			for _, p := range testOnly {
				if imp == p && !isTest {
					t.Errorf("%s imports %s, which only tests may import", rel, imp)
				}
			}
			for _, p := range forbidden[dir] {
				if !isTest && (imp == p || strings.HasPrefix(imp, p+"/")) {
					t.Errorf("%s imports %s", rel, imp)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("read only %d Go files under %s", checked, root)
	}
}
