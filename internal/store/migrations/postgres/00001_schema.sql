-- The whole schema, as the SQLite file has it after its 00003. Times are
-- BIGINT unix nanoseconds in UTC, not timestamptz, which keeps only
-- microseconds; NULL stands for the zero time.

-- +goose Up
CREATE TABLE requests (
	id                TEXT   NOT NULL PRIMARY KEY,
	token             TEXT   NOT NULL UNIQUE,
	envelope_id       TEXT   UNIQUE, -- NULL: no envelope, no dedupe
	team_id           TEXT   NOT NULL,
	slack_user        TEXT   NOT NULL,
	iam_user          TEXT   NOT NULL,
	requested_by      TEXT   NOT NULL,
	state             TEXT   NOT NULL CHECK (state IN
		('pending', 'approved', 'resetting', 'delivered', 'failed', 'denied', 'expired')),
	approval_channel  TEXT   NOT NULL,
	approval_ts       TEXT   NOT NULL,
	decided_by        TEXT   NOT NULL,
	decided_at        BIGINT,
	outcome           TEXT   NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	expires_at        BIGINT,
	delivered_at      BIGINT, -- when it moved to delivered: the cooldown
	unused_claimed_at BIGINT  -- NULL: not yet claimed by the sweeper of unused sign-ins
);

-- One active request per owner. The list must match request.ActiveStates();
-- the shared test suite checks it state by state.
CREATE UNIQUE INDEX requests_one_active_per_owner ON requests (slack_user)
	WHERE state IN ('pending', 'approved', 'resetting');
CREATE INDEX requests_by_state ON requests (state, created_at);
CREATE INDEX requests_delivered ON requests (slack_user, delivered_at)
	WHERE delivered_at IS NOT NULL;
CREATE INDEX requests_delivered_by_iam_user ON requests (iam_user, delivered_at)
	WHERE delivered_at IS NOT NULL;

CREATE TABLE audit (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         BIGINT NOT NULL,
	request_id TEXT   NOT NULL,
	action     TEXT   NOT NULL,
	actor      TEXT   NOT NULL,
	target     TEXT   NOT NULL,
	iam_user   TEXT   NOT NULL,
	outcome    TEXT   NOT NULL
);
CREATE INDEX audit_by_time ON audit (at, seq);

-- The trail is append-only for every role but a superuser who drops the
-- triggers: UPDATE, DELETE and TRUNCATE are refused.
-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit trail is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE claims (
	claim_key  TEXT   NOT NULL PRIMARY KEY,
	claimed_at BIGINT NOT NULL
);

CREATE TABLE dm_channels (
	team_id    TEXT   NOT NULL,
	slack_user TEXT   NOT NULL,
	channel_id TEXT   NOT NULL,
	opened_at  BIGINT NOT NULL,
	PRIMARY KEY (team_id, slack_user)
);

CREATE TABLE leases (
	name       TEXT   NOT NULL PRIMARY KEY,
	holder     TEXT   NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE TABLE replicas (
	replica_id TEXT   NOT NULL PRIMARY KEY,
	seen_at    BIGINT NOT NULL
);

-- +goose Down
