// Package store is the bot's durable memory: password-reset requests, the
// append-only audit trail, one-time claims, leases and the replicas'
// heartbeats. It keeps them in an embedded SQLite file (pure Go, no cgo)
// for a single bot, or in PostgreSQL for several replicas; both are
// created and migrated on first use (goose), so the bot survives a
// restart in the middle of an approval or a reset.
//
// The store never holds a password: there is no column for one. It does
// hold each request's approval token, which the bot needs to rebuild
// buttons, so the SQLite file is created readable by its owner only.
//
// Every rule that must hold under concurrency (one active request per
// person, one use of a Socket Mode envelope, the cooldown, one winner when
// two approvers click at once, one run of a one-time job) is enforced by
// the database with unique indexes, conditional updates and transactions,
// never by reading first and writing later, so it holds across replicas.
// Both stores share one set of queries (this package's sqlDB), written
// once with ? placeholders; [storetest] is the suite both pass.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors the caller decides on with [errors.Is]. Methods wrap them with
// context.
var (
	// ErrNotFound means there is no such request.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a conditional update lost: the request was not in
	// one of the expected states. Move returns the current request with it.
	ErrConflict = errors.New("state conflict")
	// ErrDuplicate means a request with the same EnvelopeID was stored
	// before: Slack redelivered an envelope. CreateRequest returns the
	// earlier request with it.
	ErrDuplicate = errors.New("duplicate request")
	// ErrActiveRequest means the owner (SlackUser) already has a request in
	// one of [request.ActiveStates]. CreateRequest returns that request
	// with it.
	ErrActiveRequest = errors.New("active request exists")
	// ErrCooldown means the owner's last delivered request was delivered
	// less than the cooldown before the new one. CreateRequest returns that
	// delivered request with it; its UpdatedAt is when it was delivered.
	ErrCooldown = errors.New("cooldown in effect")
	// ErrSchemaTooNew means the database was migrated by a newer version of
	// the bot than this one; running against it could lose data, so the
	// stores refuse to open it.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
)

// sqlDB is the part both stores share: every query and transaction of the
// store's methods, on database/sql. The methods are promoted to [SQLite]
// and [Postgres].
type sqlDB struct {
	name string  // for errors: the file, or the URL without its password
	w    *sql.DB // writes; for SQLite exactly one connection
	r    *sql.DB // reads; for PostgreSQL the same pool as w
	pg   bool    // PostgreSQL: $n placeholders and row locks
	// acks records acked commands (HoldAcked) on PostgreSQL: a pool of
	// its own whose commits do not wait for the disk (see holdAckedPostgres).
	acks *sql.DB
}

// q rewrites query's ? placeholders for the database. No query of this
// package has a ? inside a string literal.
func (d *sqlDB) q(query string) string {
	if !d.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// forUpdate is the clause that locks the rows a transaction reads before
// it writes them. SQLite needs none: its one writer holds the whole file.
func (d *sqlDB) forUpdate() string {
	if d.pg {
		return " FOR UPDATE"
	}
	return ""
}

// write runs fn in one transaction on the writer pool, committing if fn
// returns nil and rolling back otherwise. On SQLite it is BEGIN
// IMMEDIATE on the only writer connection; on PostgreSQL it is READ
// COMMITTED, and each method takes the locks it needs.
func (d *sqlDB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback() // the error from fn is the one worth reporting
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier is what the read helpers need from *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// exec runs a statement and returns how many rows it changed.
func (d *sqlDB) exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, d.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
