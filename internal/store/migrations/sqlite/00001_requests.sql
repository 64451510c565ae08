-- Requests, audit trail, one-time keys. The first schema of the bot, as
-- the hand-written migrator applied it; a file it made is adopted as at
-- this version and 00002 (see adoptLegacy in migrate.go), so never edit it.
--
-- Times are INTEGER unix nanoseconds in UTC; NULL stands for the zero time.

-- +goose Up
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

-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit trail is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit trail is append-only');
END;
-- +goose StatementEnd

CREATE TABLE reminders (
	reminder_key TEXT    NOT NULL PRIMARY KEY,
	sent_at      INTEGER NOT NULL
) STRICT;

-- +goose Down
-- The bot never migrates down: a newer file is refused, not rewritten.
