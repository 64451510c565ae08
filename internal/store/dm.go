package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DMChannel returns the ID of the bot's DM channel with slackUser of team,
// as SetDMChannel recorded it, or [ErrNotFound].
func (d *sqlDB) DMChannel(ctx context.Context, team, slackUser string) (string, error) {
	var id string
	err := d.r.QueryRowContext(ctx, d.q("SELECT channel_id FROM dm_channels WHERE team_id = ? AND slack_user = ?"),
		team, slackUser).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("DM channel with %s: %w", slackUser, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("DM channel with %s: %w", slackUser, err)
	}
	return id, nil
}

// SetDMChannel records the ID of the bot's DM channel with slackUser of
// team, as Slack's conversations.open answered it at at. Slack never
// changes it; a second call replaces the first.
func (d *sqlDB) SetDMChannel(ctx context.Context, team, slackUser, channelID string, at time.Time) error {
	if team == "" || slackUser == "" || channelID == "" || at.IsZero() {
		return errors.New("set DM channel: missing team, user, channel or time")
	}
	n, err := nanos(at)
	if err != nil {
		return fmt.Errorf("set DM channel with %s: %w", slackUser, err)
	}
	_, err = d.w.ExecContext(ctx, d.q(`INSERT INTO dm_channels (team_id, slack_user, channel_id, opened_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (team_id, slack_user) DO UPDATE SET channel_id = excluded.channel_id, opened_at = excluded.opened_at`),
		team, slackUser, channelID, n)
	if err != nil {
		return fmt.Errorf("set DM channel with %s: %w", slackUser, err)
	}
	return nil
}
