package workflow

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// openDM returns the ID of the bot's DM with a user. DM IDs never change,
// so each is asked for once and remembered, in memory and in the store, so
// a burst after a restart does not call conversations.open (a Tier 3
// method, 50 a minute) once per person again.
//
// Only IDs that conversations.open answered for a person are kept. The
// channel of a slash command typed in a DM is not enough to know the bot's
// DM with that person: Slack sends the same "D…" shape for a DM between
// the person and a colleague, where the bot is not a member.
func (w *Workflow) openDM(ctx context.Context, userID string) (string, error) {
	w.dmMu.Lock()
	id, ok := w.dms[userID]
	w.dmMu.Unlock()
	if ok {
		return id, nil
	}
	// Not found, or unreadable: conversations.open answers either way.
	if id, err := w.store.DMChannel(ctx, w.self.TeamID, userID); err == nil && id != "" {
		w.rememberDM(userID, id)
		return id, nil
	}
	id, err := w.slack.OpenDM(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("open a DM with %s: %w", userID, err)
	}
	w.rememberDM(userID, id)
	// A failure costs only a conversations.open after the next restart.
	if err := w.store.SetDMChannel(ctx, w.self.TeamID, userID, id, w.now()); err != nil {
		w.log.Warn("could not remember a DM channel", slog.String(keyUser, userID), slog.Any(keyError, err))
	}
	return id, nil
}

func (w *Workflow) rememberDM(userID, channelID string) {
	w.dmMu.Lock()
	w.dms[userID] = channelID
	w.dmMu.Unlock()
}

// tellEphemeral shows a message to one person, in the DM with the bot.
func (w *Workflow) tellEphemeral(ctx context.Context, log *slog.Logger, userID string, m slacktext.Message) {
	dm, err := w.openDM(ctx, userID)
	if err != nil {
		log.Warn("could not answer the person", slog.Any(keyError, err))
		return
	}
	w.postEphemeral(ctx, log, dm, userID, m)
}

// tellDM posts a lasting message in the DM with a person: for news they
// may not be looking at Slack to see.
func (w *Workflow) tellDM(ctx context.Context, log *slog.Logger, userID string, m slacktext.Message) {
	dm, err := w.openDM(ctx, userID)
	if err != nil {
		log.Warn("could not answer the person", slog.Any(keyError, err))
		return
	}
	w.postMessage(ctx, log, dm, m)
}

func (w *Workflow) postEphemeral(ctx context.Context, log *slog.Logger, channel, userID string, m slacktext.Message) {
	if err := w.slack.Ephemeral(ctx, channel, userID, m); err != nil {
		log.Warn("chat.postEphemeral failed", slog.String("channel", channel), slog.Any(keyError, err))
	}
}

func (w *Workflow) postMessage(ctx context.Context, log *slog.Logger, channel string, m slacktext.Message) (ts string) {
	ts, err := w.slack.Post(ctx, channel, m)
	if err != nil {
		log.Warn("chat.postMessage failed", slog.String("channel", channel), slog.Any(keyError, err))
		return ""
	}
	return ts
}
