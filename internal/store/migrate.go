package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema changes in order; migration i+1 is
// migrations[i]. Never edit or reorder one that has shipped: add a new one.
// Each may hold several statements and runs in the same transaction as the
// row that records it, so a failed migration leaves no trace.
//
// Times are INTEGER unix nanoseconds in UTC; NULL stands for the zero time.
// No table has, or may ever have, a column for a password.
var migrations = []string{
	// 1: requests, audit trail, reminders.
	`
CREATE TABLE requests (
	id               TEXT    NOT NULL PRIMARY KEY,
	token            TEXT    NOT NULL UNIQUE,
	envelope_id      TEXT    UNIQUE, -- NULL: no envelope, no dedupe
	team_id          TEXT    NOT NULL,
	slack_user       TEXT    NOT NULL,
	iam_user         TEXT    NOT NULL,
	requested_by     TEXT    NOT NULL,
	state            TEXT    NOT NULL CHECK (state IN
		('pending', 'approved', 'resetting', 'delivered', 'failed', 'denied', 'expired')),
	approval_channel TEXT    NOT NULL,
	approval_ts      TEXT    NOT NULL,
	decided_by       TEXT    NOT NULL,
	decided_at       INTEGER,
	outcome          TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	expires_at       INTEGER,
	delivered_at     INTEGER -- when it moved to delivered: the cooldown
) STRICT;

-- One active request per owner. The list must match request.ActiveStates();
-- the shared test suite checks it state by state.
CREATE UNIQUE INDEX requests_one_active_per_owner ON requests (slack_user)
	WHERE state IN ('pending', 'approved', 'resetting');
CREATE INDEX requests_by_state ON requests (state, created_at);
CREATE INDEX requests_delivered ON requests (slack_user, delivered_at)
	WHERE delivered_at IS NOT NULL;

CREATE TABLE audit (
	seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	request_id TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	actor      TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	iam_user   TEXT    NOT NULL,
	outcome    TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_by_time ON audit (at, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit trail is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit trail is append-only');
END;

CREATE TABLE reminders (
	reminder_key TEXT    NOT NULL PRIMARY KEY,
	sent_at      INTEGER NOT NULL
) STRICT;
`,
	// 2: the bot's DM channel with each person, as conversations.open
	// answered, so a restart does not open them all again.
	`
CREATE TABLE dm_channels (
	team_id    TEXT    NOT NULL,
	slack_user TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	opened_at  INTEGER NOT NULL,
	PRIMARY KEY (team_id, slack_user)
) STRICT;
`,
}

// migrate brings the schema up to date in one transaction. BEGIN IMMEDIATE
// (see dsn) makes two processes starting at once take turns, and the second
// finds nothing left to do.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback() // no-op after Commit

	if _, err := tx.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx,
		"SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("migrate: database is at version %d, this binary knows %d: %w",
			current, len(migrations), ErrSchemaTooNew)
	}
	for v := current + 1; v <= len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migrate: apply version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO schema_migrations (version) VALUES (?)", v); err != nil {
			return fmt.Errorf("migrate: record version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
