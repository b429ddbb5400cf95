package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

//go:embed *.css *.js
var files embed.FS

// Assets serves the embedded files under content-hashed paths, so that
// browsers may cache them for good.
type Assets struct {
	paths map[string]string // name -> /static/name?v=hash
}

// New hashes the embedded files.
func New() (*Assets, error) {
	a := &Assets{paths: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		a.paths[p] = "/static/" + p + "?v=" + hex.EncodeToString(h[:6])
		return nil
	})
	return a, err
}

// Path is the URL of an embedded file.
func (a *Assets) Path(name string) string {
	if p, ok := a.paths[name]; ok {
		return p
	}
	return "/static/" + name
}

// FS is the embedded files.
func FS() fs.FS { return files }
