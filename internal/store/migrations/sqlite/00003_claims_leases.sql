-- Work that must happen once, whoever does it: one-time claims (renamed
-- from reminders, which they outgrew), the check of unused sign-ins claimed
-- on the delivered request itself, leases, and the replicas' heartbeats.

-- +goose Up
ALTER TABLE reminders RENAME TO claims;
ALTER TABLE claims RENAME COLUMN reminder_key TO claim_key;
ALTER TABLE claims RENAME COLUMN sent_at TO claimed_at;

-- NULL: not yet claimed by the sweeper of unused sign-ins.
ALTER TABLE requests ADD COLUMN unused_claimed_at INTEGER;
-- The old sweeper claimed a request under the key expire-unused/ID: carry
-- those claims over, so nothing is checked twice across the upgrade.
UPDATE requests SET unused_claimed_at =
	(SELECT claimed_at FROM claims WHERE claim_key = 'expire-unused/' || requests.id)
	WHERE state = 'delivered';
-- Each IAM user's latest delivery, for the sweeper.
CREATE INDEX requests_delivered_by_iam_user ON requests (iam_user, delivered_at)
	WHERE delivered_at IS NOT NULL;

CREATE TABLE leases (
	name       TEXT    NOT NULL PRIMARY KEY,
	holder     TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE replicas (
	replica_id TEXT    NOT NULL PRIMARY KEY,
	seen_at    INTEGER NOT NULL
) STRICT;

-- +goose Down
