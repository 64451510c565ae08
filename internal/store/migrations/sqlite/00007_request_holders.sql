-- Which replica holds each request it is working on, so that the requests a
-- dead replica left half-done (resetting, or created and not yet reset) are
-- told apart from the ones a live replica is working on right now. A
-- request with no row here was left by a bot from before replicas, and is
-- treated as left behind. A row is written for every command a replica
-- acked, right after the ack, so a command acked by a replica that died
-- before recording it is found too, and its sender told.

-- +goose Up
CREATE TABLE request_holders (
	request_id TEXT    NOT NULL PRIMARY KEY,
	replica_id TEXT    NOT NULL,
	held_at    INTEGER NOT NULL,
	slack_user TEXT    NOT NULL DEFAULT '', -- who asked, to tell them if the command is lost
	envelope_id TEXT   NOT NULL DEFAULT '', -- the Socket Mode envelope: a redelivery is not a loss
	done       INTEGER NOT NULL DEFAULT 0   -- 1: the command was handled (created or refused)
) STRICT;

-- +goose Down
DROP TABLE request_holders;
