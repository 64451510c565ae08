package slackbot

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// maxEnvelope is the largest envelope the bot reads any further than its
// ID: real slash commands and button clicks are a few KB.
const maxEnvelope = 64 << 10

// handleEvent acks an envelope at once, before any other call, so Slack
// never shows a timeout however slow AWS is, and hands the work to a
// goroutine. It never blocks on the network.
func (b *Bot) handleEvent(ctx context.Context, evt socketmode.Event) {
	start := b.now()
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
		c := workflow.Command{EnvelopeID: evt.Request.EnvelopeID, Command: cmd.Command, Text: cmd.Text,
			UserID: cmd.UserID, TeamID: cmd.TeamID, EnterpriseID: cmd.EnterpriseID, ChannelID: cmd.ChannelID,
			TriggerID: cmd.TriggerID}
		requestID, answer := b.handler.Preflight(c)
		if requestID == "" {
			b.ack(evt.Request, ackPayload(answer), start)
			b.metrics.Command("slash_command")
			return // help: the ack said it all
		}
		b.metrics.Command("slash_command")
		b.ackCommand(ctx, evt.Request, start, c, requestID)

	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		if cb.Type == slack.InteractionTypeViewSubmission && len(evt.Request.Payload) <= maxEnvelope {
			b.metrics.Command("view_submission")
			b.handleViewSubmission(ctx, evt.Request, cb, start)
			return
		}
		b.ack(evt.Request, nil, start)
		b.metrics.Command("interaction")
		if len(evt.Request.Payload) > maxEnvelope {
			b.log.Warn("ignored an oversized interaction payload", slog.Int("bytes", len(evt.Request.Payload)))
			return
		}
		c, ok := clickOf(cb)
		if !ok {
			b.log.Warn("ignored an interaction that is not one button click", slog.String("type", truncate(string(cb.Type), 40)))
			return
		}
		b.holdWork(ctx, func(ctx context.Context) { b.handler.HandleClick(ctx, c) })

	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			b.handleEventsAPI(ctx, evt, start)
		}

	case socketmode.EventTypeHello:
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
	b.metrics.Ack(b.now().Sub(start))
	if err != nil {
		b.log.Error("ack failed", slog.String("envelope_id", truncate(req.EnvelopeID, 64)), slog.Any(keyError, err))
	}
}

// ackPayload turns a message into an ack payload: Slack shows it to the
// person who typed the command, only to them.
// A message of text alone is sent without blocks.
func ackPayload(m slacktext.Message) map[string]any {
	p := map[string]any{"response_type": "ephemeral", "text": m.Text}
	if len(m.Blocks) > 0 {
		p["blocks"] = m.Blocks
	}
	return p
}

// clickOf reads a block_actions payload with exactly one action into a
// workflow.Click; anything else is not a click of ours.
func clickOf(cb slack.InteractionCallback) (workflow.Click, bool) {
	if cb.Type != slack.InteractionTypeBlockActions {
		return workflow.Click{}, false
	}
	if len(cb.ActionCallback.BlockActions) != 1 || cb.ActionCallback.BlockActions[0] == nil {
		return workflow.Click{}, false
	}
	a := cb.ActionCallback.BlockActions[0]
	enterprise := cb.Team.EnterpriseID
	if enterprise == "" {
		enterprise = cb.Enterprise.ID
	}
	return workflow.Click{
		BlockID: a.BlockID, ActionID: a.ActionID, Value: a.Value,
		UserID: cb.User.ID, UserTeamID: cb.User.TeamID, TeamID: cb.Team.ID, EnterpriseID: enterprise,
		ChannelID: cb.Channel.ID, MessageTS: cb.Container.MessageTs,
		View: string(cb.View.Type), TriggerID: cb.TriggerID,
	}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
