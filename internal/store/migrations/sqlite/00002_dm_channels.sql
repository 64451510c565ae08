-- The bot's DM channel with each person, as conversations.open answered,
-- so a restart does not open them all again. Adopted like 00001.

-- +goose Up
CREATE TABLE dm_channels (
	team_id    TEXT    NOT NULL,
	slack_user TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	opened_at  INTEGER NOT NULL,
	PRIMARY KEY (team_id, slack_user)
) STRICT;

-- +goose Down
