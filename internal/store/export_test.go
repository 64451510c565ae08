package store

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// migrationEntries lists dialect's migration files ("sqlite" or
// "postgres") in order, and the directory they are in.
func migrationEntries(dialect string) (string, []fs.DirEntry, error) {
	d := goose.DialectSQLite3
	if dialect == "postgres" {
		d = goose.DialectPostgres
	}
	dir := "migrations/" + migrationDir(d)
	entries, err := migrationFiles.ReadDir(dir)
	return dir, entries, err
}

// MigrationSources returns the SQL of dialect's migrations, in order, for
// the external tests.
func MigrationSources(dialect string) ([]string, error) {
	dir, entries, err := migrationEntries(dialect)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		b, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// MigrationVersions returns the versions of dialect's migrations, in
// order, read from their file names (00004_x.sql is 4). The numbers of
// work in progress are assigned ahead, so they need not be dense.
func MigrationVersions(dialect string) ([]int, error) {
	_, entries, err := migrationEntries(dialect)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, int(v))
	}
	return out, nil
}

// PoolSettings reports synchronous_commit as the main pool and the ack
// pool of s see it, and how many connections the ack pool holds open.
func PoolSettings(ctx context.Context, s *Postgres) (main, acks string, ackConnsOpen int, err error) {
	if err := s.w.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&main); err != nil {
		return "", "", 0, err
	}
	open := s.acks.Stats().OpenConnections
	if err := s.acks.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&acks); err != nil {
		return "", "", 0, err
	}
	return main, acks, open, nil
}
