//go:build !unix

package store

import "context"

// lockFile is a no-op where flock(2) is missing: processes starting on
// one new SQLite file at the very same moment may then fail to migrate
// once, and succeed on restart. The bot's images and packages are Unix.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	return func() {}, nil
}
