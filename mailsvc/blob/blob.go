// Package blob stores message bodies: immutable byte strings under random
// keys. The files backend keeps each under the data folder; an S3-compatible
// backend can implement the same interface later.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("blob not found")

// Store is a blob backend.
type Store interface {
	// Create starts a blob. Write to it, then Commit to make it durable
	// and readable under its key, or Abort.
	Create(ctx context.Context) (Pending, error)
	// Open reads a committed blob.
	Open(ctx context.Context, key string) (Reader, error)
	// Delete removes a blob; deleting a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn for every committed blob, for cleaning up orphans.
	Walk(ctx context.Context, fn func(key string, created time.Time) error) error
	// Free reports the bytes free where blobs are written (-1: unknown).
	Free() (int64, error)
}

// Pending is a blob being written.
type Pending interface {
	io.Writer
	// Key is the blob's key, fixed at Create.
	Key() string
	// Size is the number of bytes written so far.
	Size() int64
	// ReaderAt reads back what was written, before Commit, for parsing.
	ReaderAt() io.ReaderAt
	// Commit makes the blob durable (synced to disk) under its key.
	Commit() error
	// Abort discards it; after Commit it does nothing.
	Abort() error
}

// Reader reads a committed blob.
type Reader interface {
	io.ReadSeekCloser
	io.ReaderAt
	Size() int64
}
