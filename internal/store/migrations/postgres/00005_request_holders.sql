-- Which replica holds each request it is working on, so that the requests a
-- dead replica left half-done (resetting, or created and not yet reset) are
-- told apart from the ones a live replica is working on right now. A
-- request with no row here was left by a bot from before replicas, and is
-- treated as left behind.

-- +goose Up
CREATE TABLE request_holders (
	request_id TEXT   NOT NULL PRIMARY KEY,
	replica_id TEXT   NOT NULL,
	held_at    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE request_holders;
