-- A database as the hand-written migrator (before goose) left it at its
-- version 2: its two migrations verbatim, and its schema_migrations table.
-- TestUpgradeLegacy opens a copy and checks that it upgrades cleanly.
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
CREATE TABLE dm_channels (
	team_id    TEXT    NOT NULL,
	slack_user TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	opened_at  INTEGER NOT NULL,
	PRIMARY KEY (team_id, slack_user)
) STRICT;

CREATE TABLE schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
INSERT INTO schema_migrations (version) VALUES (1), (2);
