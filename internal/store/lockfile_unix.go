//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPollInterval is how often a process waiting to migrate the file
// tries the lock again; migrations take milliseconds.
const lockPollInterval = 20 * time.Millisecond

// lockFile takes an exclusive flock(2) on path, creating it (mode 0600)
// if needed, and returns the function that releases it. Processes opening
// one SQLite file at the same moment take turns on it while they migrate:
// goose applies each migration in a transaction of its own, so without it
// two could both try to apply the first. It is a file of its own rather
// than the database, because closing any descriptor of the database would
// drop SQLite's own POSIX locks on it. The lock goes with the process, so
// a crash never leaves it held. It gives up when ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(fd, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("migration lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("migration lock %s: %w", path, ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
}
