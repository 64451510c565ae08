package slackbot

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// maxEnvelope is the largest envelope the bot reads any further than its
// ID: real slash commands and button clicks are a few KB.
const maxEnvelope = 64 << 10

// handleEvent acks an envelope at once, before any other call, so Slack
// never shows a timeout however slow AWS is, and hands the work to a
// goroutine. It never blocks on the network.
func (b *Bot) handleEvent(ctx context.Context, evt socketmode.Event) {
	start := time.Now()
	switch evt.Type {
	case socketmode.EventTypeConnected:
		data, _ := evt.Data.(*socketmode.ConnectedEvent)
		reconnect := data != nil && data.ConnectionCount > 0
		b.setConnected(true, reconnect)
		b.log.Info("socket mode connected", slog.Bool("reconnect", reconnect))
	case socketmode.EventTypeConnecting:
		b.setConnected(false, false)
	case socketmode.EventTypeConnectionError:
		b.setConnected(false, false)
		b.log.Warn("socket mode connection failed; retrying", slog.Any(keyError, evt.Data))
	case socketmode.EventTypeDisconnect:
		b.setConnected(false, false)
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("Slack refused the app-level token")

	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		env := envelope{ID: evt.Request.EnvelopeID, Retry: evt.Request.RetryAttempt}
		requestID, reply := b.preflight(cmd)
		b.ack(evt.Request, reply, start)
		b.metrics.Command("slash_command")
		if requestID == "" {
			return // help: the ack said it all
		}
		b.holdWork(ctx, func(ctx context.Context) { b.handleCommand(ctx, env, requestID, cmd) })

	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		b.ack(evt.Request, nil, start)
		b.metrics.Command("interaction")
		if len(evt.Request.Payload) > maxEnvelope {
			b.log.Warn("ignored an oversized interaction payload", slog.Int("bytes", len(evt.Request.Payload)))
			return
		}
		b.holdWork(ctx, func(ctx context.Context) { b.handleInteraction(ctx, cb) })

	case socketmode.EventTypeEventsAPI, socketmode.EventTypeHello:
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			b.ack(evt.Request, nil, start)
		}

	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go could not parse, such as a type it does not
		// know: ack it so Slack does not redeliver it, and do nothing else.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		if bad == nil {
			return
		}
		var env struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
			b.ack(&socketmode.Request{EnvelopeID: env.EnvelopeID}, nil, start)
		}
		b.log.Warn("ignored an envelope the bot cannot read", slog.String("type", truncate(env.Type, 40)),
			slog.Int("bytes", len(bad.Message)))
	}
}

// ack answers an envelope. Slack expects it within 3 seconds.
func (b *Bot) ack(req *socketmode.Request, payload any, start time.Time) {
	var err error
	if payload == nil {
		err = b.socket.Ack(*req)
	} else {
		err = b.socket.Ack(*req, payload)
	}
	b.metrics.Ack(time.Since(start))
	if err != nil {
		b.log.Error("ack failed", slog.String("envelope_id", truncate(req.EnvelopeID, 64)), slog.Any(keyError, err))
	}
}

type envelope struct {
	ID    string
	Retry int
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
