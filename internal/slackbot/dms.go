package slackbot

import (
	"context"
	"log/slog"
	"time"
)

// dmStore is what a Store may also do to remember DM channel IDs across
// restarts, so a burst after a restart does not call conversations.open
// (a Tier 3 method, 50 a minute) once per person again. A Store without it
// still works: the IDs are then kept in memory only.
//
// Only IDs that conversations.open answered for a person are kept. The
// channel_id of a slash command typed in a DM is not enough to know the
// bot's DM with that person: Slack sends the same "D…" shape and
// "directmessage" name for a DM between the person and a colleague, where
// the bot is not a member. Telling the two apart would take a
// conversations.info call, in the same tier, so it saves nothing.
type dmStore interface {
	DMChannel(ctx context.Context, team, slackUser string) (string, error)
	SetDMChannel(ctx context.Context, team, slackUser, channelID string, at time.Time) error
}

// storedDM returns the DM channel the store remembers for userID, or "".
func (b *Bot) storedDM(ctx context.Context, userID string) string {
	ds, ok := b.store.(dmStore)
	if !ok {
		return ""
	}
	id, err := ds.DMChannel(ctx, b.self.TeamID, userID)
	if err != nil {
		return "" // not found, or unreadable: conversations.open answers either way
	}
	return id
}

// rememberDM records a DM channel conversations.open answered. A failure
// costs only a conversations.open after the next restart.
func (b *Bot) rememberDM(ctx context.Context, userID, channelID string) {
	if ds, ok := b.store.(dmStore); ok {
		if err := ds.SetDMChannel(ctx, b.self.TeamID, userID, channelID, b.now()); err != nil {
			b.log.Warn("could not remember a DM channel", slog.String(keyUser, userID), slog.Any(keyError, err))
		}
	}
}
