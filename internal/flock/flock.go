// Package flock takes advisory, exclusive file locks with flock(2), so that separate mochi
// processes serialise work on one resource (for example `mochi up` on one workspace). A lock
// belongs to its open file: it is released by Unlock, by closing, and by the kernel when the
// process dies, so a killed holder never leaves a stale lock behind. Lock files are never
// deleted (deleting one would let two processes lock different inodes under one name).
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock. The zero value is not usable; get one from Acquire or TryLock.
type Lock struct {
	f    *os.File
	path string
}

// Poll intervals while waiting: flock(2) cannot be interrupted by a context, so Acquire
// retries a non-blocking lock, backing off from minWait to maxWait.
const (
	minWait = 5 * time.Millisecond
	maxWait = 100 * time.Millisecond
)

// Acquire takes the exclusive lock on path, creating the file (mode 0600) and its folder
// (mode 0700) when missing, and waits until the lock is free or ctx is done. On ctx's end
// it returns an error wrapping ctx.Err().
func Acquire(ctx context.Context, path string) (*Lock, error) {
	wait := minWait
	var timer *time.Timer
	for {
		l, err := TryLock(path)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-timer.C:
		}
		wait = min(wait*2, maxWait)
	}
}

// TryLock takes the exclusive lock on path without waiting; it returns an error wrapping
// ErrLocked when another open file holds it.
func TryLock(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Unlock releases the lock. Calling it again does nothing.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the only descriptor of the open file releases the flock.
	if err := f.Close(); err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}

// With runs fn while holding the lock on path (see Acquire), for short read-modify-write
// sections such as rewriting a shared file; fn's error is returned, else Unlock's.
func With(ctx context.Context, path string, fn func() error) error {
	l, err := Acquire(ctx, path)
	if err != nil {
		return err
	}
	ferr := fn()
	if uerr := l.Unlock(); ferr == nil {
		ferr = uerr
	}
	return ferr
}
