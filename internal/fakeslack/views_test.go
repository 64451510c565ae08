package fakeslack

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func reasonModal() slack.ModalViewRequest {
	input := slack.NewInputBlock("why", slack.NewTextBlockObject(slack.PlainTextType, "Why?", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "why_text"))
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: "cb", PrivateMetadata: "md",
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Password reset", false, false),
		Submit: slack.NewTextBlockObject(slack.PlainTextType, "Send", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{input}}}
}

// A modal opens on a fresh trigger, once; its submission and the Home
// tab's opening reach the client as slack-go reads them.
func TestViews(t *testing.T) {
	clock := newFakeClock()
	s := newServer(t, Options{Now: clock.Now})
	c := startClient(t, s)
	ctx := testContext(t)
	api := botAPI(s)

	if _, err := s.SlashCommand(ctx, SlashCommand{UserID: alice}); err != nil {
		t.Fatal(err)
	}
	cmd := c.next(t, ctx, socketmode.EventTypeSlashCommand).Data.(slack.SlashCommand)
	if _, err := api.OpenViewContext(ctx, "1.2.unknown", reasonModal()); slackErr(err) != "invalid_trigger_id" {
		t.Errorf("views.open(unknown trigger) = %v; want invalid_trigger_id", err)
	}
	resp, err := api.OpenViewContext(ctx, cmd.TriggerID, reasonModal())
	if err != nil || resp.ID == "" || resp.CallbackID != "cb" || resp.PrivateMetadata != "md" {
		t.Fatalf("views.open = %+v, %v", resp, err)
	}
	if _, err := api.OpenViewContext(ctx, cmd.TriggerID, reasonModal()); slackErr(err) != "expired_trigger_id" {
		t.Errorf("views.open(used trigger) = %v; want expired_trigger_id", err)
	}

	if _, err := s.SlashCommand(ctx, SlashCommand{UserID: alice}); err != nil {
		t.Fatal(err)
	}
	late := c.next(t, ctx, socketmode.EventTypeSlashCommand).Data.(slack.SlashCommand)
	clock.Advance(4 * time.Second)
	if _, err := api.OpenViewContext(ctx, late.TriggerID, reasonModal()); slackErr(err) != "expired_trigger_id" {
		t.Errorf("views.open(late) = %v; want expired_trigger_id", err)
	}

	if _, err := s.ViewSubmission(ctx, ViewSubmission{UserID: alice, ViewID: resp.ID,
		Values: map[string]map[string]string{"why": {"why_text": "locked out"}}}); err != nil {
		t.Fatal(err)
	}
	cb := c.next(t, ctx, socketmode.EventTypeInteractive).Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeViewSubmission || cb.User.ID != alice || cb.View.ID != resp.ID ||
		cb.View.PrivateMetadata != "md" || cb.View.State == nil || cb.View.State.Values["why"]["why_text"].Value != "locked out" {
		t.Errorf("view_submission = %+v", cb)
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "hi", false, false), nil, nil)}}}
	if _, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U0NOBODY01", View: home}); slackErr(err) != "user_not_found" {
		t.Errorf("views.publish(unknown user) = %v; want user_not_found", err)
	}
	if _, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: alice, View: home}); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Home(alice); !ok || v.Type != "home" {
		t.Errorf("Home(alice) = %+v, %v", v, ok)
	}
	if _, err := s.AppHomeOpened(ctx, alice); err != nil {
		t.Fatal(err)
	}
	evt := c.next(t, ctx, socketmode.EventTypeEventsAPI).Data.(slackevents.EventsAPIEvent)
	opened, ok := evt.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || opened.User != alice || opened.Tab != "home" || evt.TeamID != TeamID {
		t.Errorf("app_home_opened = %+v (%T)", evt, evt.InnerEvent.Data)
	}
}
