package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeoutMillis bounds how long a statement waits for a lock held by
// another process (a backup tool, an operator's sqlite3 shell). Inside one
// process writes are already serialised by the single writer connection.
const busyTimeoutMillis = 10000

// maxReaders is the number of read connections. In WAL mode readers never
// wait for the writer, so reads (including /readyz) stay fast during a write.
const maxReaders = 4

// SQLite is the store on an SQLite file. It is safe for concurrent use.
//
// It holds two connection pools on the same file: one connection for all
// writes, so writers queue in Go instead of failing with SQLITE_BUSY, and a
// few query-only connections for reads.
type SQLite struct {
	sqlDB // w: exactly one connection, every transaction BEGIN IMMEDIATE; r: query-only
}

// Open opens the store at path, creating the file (mode 0600) if it does
// not exist, and applies any migrations the file lacks (taking turns, on
// the lock file path+"-migrate" beside it, with other processes opening
// the file at the same moment). The directory must
// exist and the file must be writable. It fails with [ErrSchemaTooNew] if a
// newer binary has migrated the file.
func Open(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := checkWritable(abs); err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}

	s := &SQLite{sqlDB{name: abs}}
	// WAL with synchronous=NORMAL: a commit is not fsynced on its own, only
	// at checkpoints. It survives any crash of the bot, and the file never
	// corrupts; an OS crash or power cut may roll back the last commits,
	// which the request states are built to survive (a request found
	// resetting is resumed with a fresh password; one found approved is
	// ended and its owner asked to ask again). FULL costs an fsync per
	// write, six per reset; see docs/benchmarks.md.
	s.w, err = sql.Open("sqlite", dsn(abs,
		"busy_timeout", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	unlock, err := lockFile(ctx, abs+"-migrate")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	defer unlock()
	if err := checkWAL(ctx, s.w); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	if err := migrate(ctx, s.w, goose.DialectSQLite3); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}

	s.r, err = sql.Open("sqlite", dsn(abs, "busy_timeout", "foreign_keys(1)", "query_only(1)"))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(maxReaders)
	s.r.SetMaxIdleConns(maxReaders)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	return s, nil
}

// checkWritable fails early, with an error that names the problem, when the
// directory is missing or the file cannot be opened for writing. SQLite
// would otherwise open a read-only file silently and fail on the first
// write. It also creates a new file with owner-only permissions, which
// SQLite then keeps for its -wal and -shm files.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("directory %s is not a directory", dir)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("database file is not writable: %w", err)
	}
	return f.Close()
}

// checkWAL confirms the writer connection switched the file to WAL mode;
// SQLite keeps the old mode without an error on file systems that cannot
// share memory for WAL.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want \"wal\"", mode)
	}
	return nil
}

// dsn builds a modernc.org/sqlite URI for path with the given pragmas run
// on every new connection. "busy_timeout" is expanded to its value. The
// path is escaped so that '?' or '#' in a file name cannot be read as
// parameters.
func dsn(path string, pragmas ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		if p == "busy_timeout" {
			p = fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis)
		}
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // take the write lock at BEGIN, never upgrade mid-transaction
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Close closes the store; it must not be used afterwards. Closing the last
// connection checkpoints the write-ahead log into the main file.
func (s *SQLite) Close() error {
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	errW := s.w.Close()
	if err := errors.Join(errR, errW); err != nil {
		return fmt.Errorf("close store %s: %w", s.name, err)
	}
	return nil
}

// Ping reports whether both the read connections and the writer connection
// answer, for a readiness probe. It waits behind a write in progress.
func (s *SQLite) Ping(ctx context.Context) error {
	for _, db := range []*sql.DB{s.r, s.w} {
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("ping store %s: %w", s.name, err)
		}
	}
	return nil
}

// String names the store by its file.
func (s *SQLite) String() string { return s.name }
