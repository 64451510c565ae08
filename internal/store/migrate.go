package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles holds one set of goose SQL migrations per dialect, in
// migrations/sqlite and migrations/postgres. Never edit or renumber one
// that has shipped: add a new file. Each runs in its own transaction with
// the row that records it, so a failed migration leaves no trace. No table
// has, or may ever have, a column for a password.
//
//go:embed migrations
var migrationFiles embed.FS

// versionTable is goose's record of applied migrations.
const versionTable = "goose_db_version"

// migrationLockID is the PostgreSQL advisory lock replicas take turns on
// while migrating; any constant works as long as every replica uses it.
const migrationLockID = 0x6177737273740001 // "awsrst" + 1

// migrate brings the schema of db up to date with dialect's migrations
// and refuses a database that a newer binary has migrated further.
//
// On PostgreSQL, replicas starting at once take turns on a session-level
// advisory lock (goose's session locker), and the later ones find nothing
// left to do. On SQLite the caller holds the file's migration lock
// (lockFile), so processes opening one file at once take turns the same way.
func migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect) error {
	fsys, err := fs.Sub(migrationFiles, "migrations/"+migrationDir(dialect))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if dialect == goose.DialectPostgres {
		// Probe every second for up to five minutes: replicas wait for the
		// one migrating, not for goose's default five-second period.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if dialect == goose.DialectSQLite3 {
		if err := adoptLegacy(ctx, db); err != nil {
			return fmt.Errorf("migrate: adopt the old schema_migrations: %w", err)
		}
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Refuse before changing anything, and again after: a newer replica
	// may have migrated while this one waited for the lock.
	if err := checkNotNewer(ctx, p); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return checkNotNewer(ctx, p)
}

// migrationDir names the directory of dialect's migrations.
func migrationDir(dialect goose.Dialect) string {
	if dialect == goose.DialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// checkNotNewer fails with [ErrSchemaTooNew] if the database has a
// migration this binary does not know.
func checkNotNewer(ctx context.Context, p *goose.Provider) error {
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if current > target {
		return fmt.Errorf("migrate: database is at version %d, this binary knows %d: %w", current, target, ErrSchemaTooNew)
	}
	return nil
}

// legacyVersions is how far the hand-written migrator that came before
// goose went: its versions 1 and 2 are goose's 00001 and 00002 unchanged.
const legacyVersions = 2

// adoptLegacy hands a file made by the hand-written migrator over to
// goose: it records that migrator's versions in goose's table, so goose
// goes on from there, and adds a version to the old schema_migrations, so
// an older binary refuses the file as newer than itself instead of
// running on a schema it does not know. It does nothing to a new file or
// one goose already manages. It runs in one BEGIN IMMEDIATE transaction,
// so two processes adopt a file once.
func adoptLegacy(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // no-op after Commit
	exists := func(name string) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", name).Scan(&n)
		return n > 0, err
	}
	legacy, err := exists("schema_migrations")
	if err != nil || !legacy {
		return err
	}
	adopted, err := exists(versionTable)
	if err != nil || adopted {
		return err
	}
	var current int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return err
	}
	if current > legacyVersions {
		// Written by a binary newer than the hand-written migrator but
		// older than goose: nothing knows this schema.
		return fmt.Errorf("schema_migrations is at version %d: %w", current, ErrSchemaTooNew)
	}
	gs, err := database.NewStore(database.DialectSQLite3, versionTable)
	if err != nil {
		return err
	}
	if err := gs.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	for v := int64(0); v <= current; v++ { // goose's own version 0 first
		if err := gs.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (?)", legacyVersions+1); err != nil {
		return err
	}
	return tx.Commit()
}
