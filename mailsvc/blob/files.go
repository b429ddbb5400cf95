package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Files keeps blobs as files: dir/ab/cd/abcd... Writes go to dir/tmp on the
// same filesystem, are fsynced, then renamed into place and the directory
// synced, so a committed blob survives a crash.
type Files struct {
	dir string
}

// NewFiles opens (making it if needed) a files blob store in dir.
func NewFiles(dir string) (*Files, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("make blob folder: %w", err)
	}
	return &Files{dir: dir}, nil
}

func (f *Files) path(key string) (string, error) {
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", fmt.Errorf("blob key %q: %w", key, ErrNotFound)
	}
	return filepath.Join(f.dir, key[:2], key[2:4], key), nil
}

// Create starts a blob in the temporary folder.
func (f *Files) Create(ctx context.Context) (Pending, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(b[:])
	tmp, err := os.OpenFile(filepath.Join(f.dir, "tmp", key), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &filePending{store: f, key: key, file: tmp}, nil
}

type filePending struct {
	store *Files
	key   string
	file  *os.File
	size  int64
	done  bool
}

func (p *filePending) Key() string           { return p.key }
func (p *filePending) Size() int64           { return p.size }
func (p *filePending) ReaderAt() io.ReaderAt { return p.file }
func (p *filePending) Write(b []byte) (int, error) {
	n, err := p.file.Write(b)
	p.size += int64(n)
	return n, err
}

func (p *filePending) Commit() error {
	if p.done {
		return errors.New("blob already committed or aborted")
	}
	final, err := p.store.path(p.key)
	if err != nil {
		return err
	}
	if err := p.file.Sync(); err != nil {
		p.Abort()
		return fmt.Errorf("sync blob: %w", err)
	}
	if err := p.file.Close(); err != nil {
		p.Abort()
		return fmt.Errorf("close blob: %w", err)
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		p.Abort()
		return fmt.Errorf("make blob folder: %w", err)
	}
	if err := os.Rename(p.file.Name(), final); err != nil {
		p.Abort()
		return fmt.Errorf("place blob: %w", err)
	}
	p.done = true
	if err := syncDir(dir); err != nil {
		os.Remove(final)
		return fmt.Errorf("sync blob folder: %w", err)
	}
	return nil
}

func (p *filePending) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	p.file.Close()
	return os.Remove(p.file.Name())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open reads a committed blob.
func (f *Files) Open(ctx context.Context, key string) (Reader, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("stat blob: %w", err)
	}
	return &fileReader{File: file, size: st.Size()}, nil
}

type fileReader struct {
	*os.File
	size int64
}

func (r *fileReader) Size() int64 { return r.size }

// Delete removes a blob.
func (f *Files) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// Walk lists committed blobs, and also removes temporary files older than a
// day (left by a crash between create and commit).
func (f *Files) Walk(ctx context.Context, fn func(key string, created time.Time) error) error {
	return filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if filepath.Base(filepath.Dir(p)) == "tmp" {
			if time.Since(info.ModTime()) > 24*time.Hour {
				os.Remove(p)
			}
			return nil
		}
		return fn(d.Name(), info.ModTime())
	})
}

// Free reports the bytes available to unprivileged writers on the blob
// filesystem.
func (f *Files) Free() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(f.dir, &st); err != nil {
		return -1, fmt.Errorf("statfs %s: %w", f.dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
