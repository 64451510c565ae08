package slackbot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// openDM returns the ID of the bot's DM with a user. DM IDs never change,
// so each is asked for once.
func (b *Bot) openDM(ctx context.Context, userID string) (string, error) {
	b.dmMu.Lock()
	id, ok := b.dms[userID]
	b.dmMu.Unlock()
	if ok {
		return id, nil
	}
	if id := b.storedDM(ctx, userID); id != "" {
		b.dmMu.Lock()
		b.dms[userID] = id
		b.dmMu.Unlock()
		return id, nil
	}
	ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", fmt.Errorf("open a DM with %s: %w", userID, err)
	}
	b.dmMu.Lock()
	b.dms[userID] = ch.ID
	b.dmMu.Unlock()
	b.rememberDM(ctx, userID, ch.ID)
	return ch.ID, nil
}

// tellEphemeral shows a message to one person, in the DM with the bot.
func (b *Bot) tellEphemeral(ctx context.Context, log *slog.Logger, userID string, m slacktext.Message) {
	dm, err := b.openDM(ctx, userID)
	if err != nil {
		log.Warn("could not answer the person", slog.Any(keyError, err))
		return
	}
	b.postEphemeral(ctx, log, dm, userID, m)
}

// tellDM posts a lasting message in the DM with a person: for news they
// may not be looking at Slack to see.
func (b *Bot) tellDM(ctx context.Context, log *slog.Logger, userID string, m slacktext.Message) {
	dm, err := b.openDM(ctx, userID)
	if err != nil {
		log.Warn("could not answer the person", slog.Any(keyError, err))
		return
	}
	b.postMessage(ctx, log, dm, m)
}

func (b *Bot) postEphemeral(ctx context.Context, log *slog.Logger, channel, userID string, m slacktext.Message) {
	if _, err := b.api.PostEphemeralContext(ctx, channel, userID,
		m.Options()...); err != nil {
		log.Warn("chat.postEphemeral failed", slog.String("channel", channel), slog.Any(keyError, err))
	}
}

func (b *Bot) postMessage(ctx context.Context, log *slog.Logger, channel string, m slacktext.Message) (ts string) {
	_, ts, err := b.api.PostMessageContext(ctx, channel, m.Options()...)
	if err != nil {
		log.Warn("chat.postMessage failed", slog.String("channel", channel), slog.Any(keyError, err))
		return ""
	}
	return ts
}

// measuredClient times every HTTP attempt at the Slack Web API; the retry
// wrapper sits above it, so each retry is seen.
type measuredClient struct {
	client  *http.Client
	metrics *metrics.Metrics
}

func (c *measuredClient) Do(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := c.client.Do(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	method := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	c.metrics.SlackCall(method, status, time.Since(start))
	return resp, err
}
