package slackbot

import (
	"context"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// viewHandler is what the Bot needs of the workflow for modals and the
// Home tab, beside commands and clicks.
type viewHandler interface {
	// CheckReason checks a submission before its ack, with no call, and
	// returns the problems to show in the modal by block ID.
	CheckReason(v workflow.ViewSubmission) map[string]string
	HandleViewSubmission(ctx context.Context, v workflow.ViewSubmission)
	HandleHomeOpened(ctx context.Context, h workflow.HomeOpened)
}

// OpenView is views.open: a modal, on the trigger of a command or click.
func (c *Client) OpenView(ctx context.Context, triggerID string, v slacktext.View) error {
	_, err := c.api.OpenViewContext(ctx, triggerID, slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: v.CallbackID, PrivateMetadata: v.PrivateMetadata,
		Title:  plainText(v.Title),
		Submit: plainText(v.Submit), Close: plainText(v.Close),
		Blocks: slack.Blocks{BlockSet: v.Blocks},
	})
	return err
}

// PublishView is views.publish: a person's Home tab.
func (c *Client) PublishView(ctx context.Context, userID string, v slacktext.View) error {
	_, err := c.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: slack.HomeTabViewRequest{
		Type: slack.VTHomeTab, CallbackID: v.CallbackID, PrivateMetadata: v.PrivateMetadata,
		Blocks: slack.Blocks{BlockSet: v.Blocks},
	}})
	return err
}

// Reply is chat.postMessage in the thread of (channel, threadTS).
func (c *Client) Reply(ctx context.Context, channel, threadTS string, m slacktext.Message) (string, error) {
	_, ts, err := c.api.PostMessageContext(ctx, channel, append(m.Options(), slack.MsgOptionTS(threadTS))...)
	return ts, err
}

func plainText(s string) *slack.TextBlockObject {
	if s == "" {
		return nil
	}
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// handleViewSubmission acks a modal's submission, with the field errors
// that keep the modal open when there are any, and else hands it to the
// workflow.
func (b *Bot) handleViewSubmission(ctx context.Context, req *socketmode.Request, cb slack.InteractionCallback, start time.Time) {
	v := workflow.ViewSubmission{ViewID: cb.View.ID, CallbackID: cb.View.CallbackID, PrivateMetadata: cb.View.PrivateMetadata,
		UserID: cb.User.ID, UserTeamID: cb.User.TeamID, TeamID: cb.Team.ID, EnterpriseID: enterpriseOf(cb),
		Values: map[string]map[string]string{}}
	if cb.View.State != nil {
		for block, actions := range cb.View.State.Values {
			v.Values[block] = map[string]string{}
			for action, a := range actions {
				v.Values[block][action] = a.Value
			}
		}
	}
	if errs := b.handler.CheckReason(v); errs != nil {
		b.ack(req, slack.NewErrorsViewSubmissionResponse(errs), start)
		return
	}
	b.ack(req, nil, start)
	b.holdWork(ctx, func(ctx context.Context) { b.handler.HandleViewSubmission(ctx, v) })
}

// handleEventsAPI acks an Events API envelope and hands app_home_opened
// to the workflow; other events are only acked.
func (b *Bot) handleEventsAPI(ctx context.Context, evt socketmode.Event, start time.Time) {
	b.ack(evt.Request, nil, start)
	e, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok || e.Type != slackevents.CallbackEvent {
		return
	}
	var opened slackevents.AppHomeOpenedEvent
	switch d := e.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		opened = *d
	case slackevents.AppHomeOpenedEvent:
		opened = d
	default:
		return
	}
	h := workflow.HomeOpened{UserID: opened.User, TeamID: e.TeamID, EnterpriseID: e.EnterpriseID, Tab: opened.Tab}
	b.log.Debug("home tab opened", slog.String("slack_user", truncate(h.UserID, 32)))
	b.holdWork(ctx, func(ctx context.Context) { b.handler.HandleHomeOpened(ctx, h) })
}

func enterpriseOf(cb slack.InteractionCallback) string {
	if cb.Team.EnterpriseID != "" {
		return cb.Team.EnterpriseID
	}
	return cb.Enterprise.ID
}
