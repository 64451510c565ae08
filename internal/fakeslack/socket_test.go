package fakeslack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func TestSocketModeSlashCommand(t *testing.T) {
	tests := []struct {
		name       string
		enterprise string
		cmd        SlashCommand
		wantCmd    slack.SlashCommand
	}{
		{
			name: "defaults in the DM",
			cmd:  SlashCommand{UserID: alice, Text: "prod"},
			wantCmd: slack.SlashCommand{
				Command: "/aws-reset", Text: "prod", UserID: alice, UserName: "alice", TeamID: TeamID, TeamDomain: TeamDomain,
				ChannelID: DMChannel(alice), ChannelName: "directmessage", APIAppID: AppID, Token: VerificationToken,
			},
		},
		{
			name:       "grid, in a channel",
			enterprise: "E0ENT00001",
			cmd:        SlashCommand{Command: "/other", UserID: bob, ChannelID: "C0OPS00001"},
			wantCmd: slack.SlashCommand{
				Command: "/other", UserID: bob, UserName: "bob", TeamID: TeamID, TeamDomain: TeamDomain, EnterpriseID: "E0ENT00001",
				EnterpriseName: EnterpriseName, ChannelID: "C0OPS00001", ChannelName: "ops", APIAppID: AppID, Token: VerificationToken,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{EnterpriseID: tt.enterprise})
			s.AddNamedChannel("C0OPS00001", "ops", BotUserID, bob)
			c := startClient(t, s)
			ctx := testContext(t)

			before := time.Now()
			id, err := s.SlashCommand(ctx, tt.cmd)
			if err != nil {
				t.Fatalf("SlashCommand() error = %v", err)
			}
			sent, ok := s.SentAt(id)
			if !ok || sent.Before(before) || sent.After(time.Now()) {
				t.Errorf("SentAt(%s) = %v, %v; want the time of the write, after %v", id, sent, ok, before)
			}
			if _, ok := s.SentAt("not-sent"); ok {
				t.Error("SentAt(an envelope never sent) is set")
			}
			evt := c.next(t, ctx, socketmode.EventTypeSlashCommand)
			got, ok := evt.Data.(slack.SlashCommand)
			if !ok {
				t.Fatalf("event data is %T; want slack.SlashCommand", evt.Data)
			}
			if got.ResponseURL == "" || got.TriggerID == "" {
				t.Errorf("slash command lacks response_url or trigger_id: %+v", got)
			}
			got.ResponseURL, got.TriggerID = "", ""
			if got != tt.wantCmd {
				t.Errorf("slash command = %+v\nwant %+v", got, tt.wantCmd)
			}
			if evt.Request.EnvelopeID != id || !evt.Request.AcceptsResponsePayload {
				t.Errorf("request = %+v; want envelope %s accepting a response payload", evt.Request, id)
			}

			if err := c.Ack(*evt.Request, map[string]any{"text": "on it"}); err != nil {
				t.Fatalf("Ack() error = %v", err)
			}
			ack, err := s.WaitAck(ctx, id)
			if err != nil || string(ack.Payload) != `{"text":"on it"}` {
				t.Errorf("WaitAck(%s) = %+v (payload %s), %v", id, ack, ack.Payload, err)
			}
			if ack.At.Before(sent) {
				t.Errorf("ack at %v, before its envelope was sent (%v)", ack.At, sent)
			}
			if acks := s.Acks(); len(acks) != 1 || acks[0].EnvelopeID != id {
				t.Errorf("Acks() = %+v; want the one ack", acks)
			}
		})
	}
}

func TestSlashCommandResponseURL(t *testing.T) {
	s := newServer(t, Options{})
	c := startClient(t, s)
	ctx := testContext(t)
	if _, err := s.SlashCommand(ctx, SlashCommand{UserID: alice}); err != nil {
		t.Fatal(err)
	}
	cmd := c.next(t, ctx, socketmode.EventTypeSlashCommand).Data.(slack.SlashCommand)
	if !strings.HasPrefix(cmd.ResponseURL, s.URL()+"/commands/"+TeamID+"/") {
		t.Fatalf("response_url = %q; want one on the fake", cmd.ResponseURL)
	}
	api := botAPI(s)
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("checking", false)); err != nil {
		t.Fatalf("post to response_url error = %v", err)
	}
	m, err := s.WaitMessage(ctx, func(m Message) bool { return m.Text == "checking" })
	if err != nil || !m.Ephemeral || m.User != alice || m.Channel != DMChannel(alice) {
		t.Errorf("response message = %+v, %v; want ephemeral to alice in her DM", m, err)
	}
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("for all", false)); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.WaitMessage(ctx, func(m Message) bool { return m.Text == "for all" }); m.Ephemeral {
		t.Errorf("in_channel response = %+v; want a normal message", m)
	}
	// Five uses in all, then used_url.
	for i := 3; i <= 6; i++ {
		_, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, ""), slack.MsgOptionText("again", false))
		var sc slack.StatusCodeError
		if gotUsed := errors.As(err, &sc) && sc.Code == http.StatusNotFound; gotUsed != (i == 6) {
			t.Errorf("use #%d of the response URL error = %v", i, err)
		}
	}
	if calls := s.Calls(ResponseURLMethod); len(calls) != 6 || calls[5].Error != "used_url" {
		t.Errorf("Calls(%s) = %+v; want 6, the last used_url", ResponseURLMethod, calls)
	}
}

func TestSocketModeBlockAction(t *testing.T) {
	for _, ephemeral := range []bool{false, true} {
		name := map[bool]string{false: "message", true: "ephemeral"}[ephemeral]
		t.Run(name, func(t *testing.T) {
			s := newServer(t, Options{EnterpriseID: "E0ENT00001"})
			api := botAPI(s)
			c := startClient(t, s)
			ctx := testContext(t)
			dm := DMChannel(alice)
			var ts string
			var err error
			if ephemeral {
				ts, err = api.PostEphemeralContext(ctx, dm, alice, slack.MsgOptionText("Approve?", false), approvalBlocks())
			} else {
				_, ts, err = api.PostMessageContext(ctx, dm, slack.MsgOptionText("Approve?", false), approvalBlocks())
			}
			if err != nil {
				t.Fatal(err)
			}

			id, err := s.BlockAction(ctx, BlockAction{UserID: alice, ChannelID: dm, MessageTS: ts, ActionID: "deny", Value: "req-1"})
			if err != nil {
				t.Fatalf("BlockAction() error = %v", err)
			}
			evt := c.next(t, ctx, socketmode.EventTypeInteractive)
			cb, ok := evt.Data.(slack.InteractionCallback)
			if !ok {
				t.Fatalf("event data is %T; want slack.InteractionCallback", evt.Data)
			}
			if evt.Request.EnvelopeID != id || cb.Type != slack.InteractionTypeBlockActions {
				t.Errorf("envelope %s, type %q; want %s, block_actions", evt.Request.EnvelopeID, cb.Type, id)
			}
			if len(cb.ActionCallback.BlockActions) != 1 {
				t.Fatalf("block actions = %+v; want one", cb.ActionCallback)
			}
			a := cb.ActionCallback.BlockActions[0]
			if a.ActionID != "deny" || a.BlockID != "decision" || a.Value != "req-1" || a.Text.Text != "Deny" || a.Type != "button" || a.ActionTs == "" {
				t.Errorf("block action = %+v; want deny/decision/req-1 with the button's text", a)
			}
			if cb.User.ID != alice || cb.User.Name != "alice" || cb.Team.ID != TeamID || cb.Enterprise.ID != "E0ENT00001" || cb.Channel.ID != dm || cb.APIAppID != AppID {
				t.Errorf("callback user %+v, team %+v, enterprise %+v, channel %q", cb.User, cb.Team, cb.Enterprise, cb.Channel.ID)
			}
			if cb.Container.Type != "message" || cb.Container.MessageTs != ts || cb.Container.ChannelID != dm || cb.Container.IsEphemeral != ephemeral {
				t.Errorf("container = %+v; want message %s in %s, ephemeral %v", cb.Container, ts, dm, ephemeral)
			}
			wantMessageTS := ts
			if ephemeral {
				wantMessageTS = "" // Slack does not send ephemeral messages back
			}
			if cb.Message.Timestamp != wantMessageTS {
				t.Errorf("callback message ts = %q; want %q", cb.Message.Timestamp, wantMessageTS)
			}
			if err := c.Ack(*evt.Request); err != nil {
				t.Fatal(err)
			}
			if ack, err := s.WaitAck(ctx, id); err != nil || ack.Payload != nil {
				t.Errorf("WaitAck() = %+v, %v; want an ack without payload", ack, err)
			}

			// The response URL replaces the original, ephemeral or not.
			if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Denied", false)); err != nil {
				t.Fatalf("replace_original error = %v", err)
			}
			if m, _ := s.Message(dm, ts); m.Text != "Denied" || m.Updates != 1 || m.Blocks != nil {
				t.Errorf("message after replace_original = %+v; want Denied, 1 update, no blocks", m)
			}
			if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionDeleteOriginal(cb.ResponseURL)); err != nil {
				t.Fatalf("delete_original error = %v", err)
			}
			if _, ok := s.Message(dm, ts); ok {
				t.Error("message still there after delete_original")
			}
		})
	}
}

func TestSocketModeReconnects(t *testing.T) {
	s := newServer(t, Options{})
	c := startClient(t, s)
	ctx := testContext(t)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	s.Disconnect("refresh_requested")
	if err := s.WaitConnectionCount(ctx, 2); err != nil {
		t.Fatal(err)
	}
	c.next(t, ctx, socketmode.EventTypeConnected) // the first connection
	c.next(t, ctx, socketmode.EventTypeConnected) // the one after the disconnect
	// The client closes the refreshed connection after opening the new one; until it
	// has, DropConnection would leave that old one open.
	if err := s.WaitOpenConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}

	before := s.ConnectionCount()
	s.DropConnection()
	if s.Connected() && s.ConnectionCount() == before {
		t.Error("Connected() = true right after DropConnection with no reconnection")
	}
	if err := s.WaitConnectionCount(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Calls("apps.connections.open")); got != 3 {
		t.Errorf("apps.connections.open calls = %d; want 3", got)
	}

	// Envelopes reach the newest connection.
	id, err := s.SlashCommand(ctx, SlashCommand{UserID: alice})
	if err != nil {
		t.Fatal(err)
	}
	evt := c.next(t, ctx, socketmode.EventTypeSlashCommand)
	if err := c.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitAck(ctx, id); err != nil {
		t.Errorf("WaitAck() after reconnecting error = %v", err)
	}
}

func TestSocketModeFailConnectionsOpen(t *testing.T) {
	s := newServer(t, Options{})
	s.FailConnectionsOpen(2)
	c := startClient(t, s)
	ctx := testContext(t)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls("apps.connections.open")
	if len(calls) != 3 || calls[0].Error != "internal_error" || calls[1].Error != "internal_error" || calls[2].Error != "" {
		t.Errorf("apps.connections.open calls = %+v; want two internal_error, then success", calls)
	}
	evt := c.next(t, ctx, socketmode.EventTypeConnectionError)
	if e, ok := evt.Data.(*slack.ConnectionErrorEvent); !ok || e.ErrorObj.Error() != "internal_error" {
		t.Errorf("connection error event = %+v; want internal_error", evt.Data)
	}
	if got := s.ConnectionCount(); got != 1 {
		t.Errorf("ConnectionCount() = %d; want 1", got)
	}
}

func TestSendWaitsForConnection(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testContext(t)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.SlashCommand(short, SlashCommand{UserID: alice}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SlashCommand() with no client error = %v; want deadline exceeded", err)
	}

	sent := make(chan error, 1)
	go func() {
		_, err := s.SlashCommand(ctx, SlashCommand{UserID: alice, Text: "later"})
		sent <- err
	}()
	c := startClient(t, s)
	if cmd := c.next(t, ctx, socketmode.EventTypeSlashCommand).Data.(slack.SlashCommand); cmd.Text != "later" {
		t.Errorf("slash command text = %q; want later", cmd.Text)
	}
	if err := <-sent; err != nil {
		t.Errorf("SlashCommand() error = %v", err)
	}
}

func TestSendRawAndBadFrames(t *testing.T) {
	s := newServer(t, Options{})
	c := startClient(t, s)
	ctx := testContext(t)
	if err := s.SendRaw(ctx, []byte(`{"type": slash_commands}`)); err != nil {
		t.Fatal(err)
	}
	c.next(t, ctx, socketmode.EventTypeIncomingError)
	if err := s.Send(ctx, Envelope{Type: "no_such_type", EnvelopeID: "e1", Payload: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	c.next(t, ctx, socketmode.EventTypeErrorBadMessage)

	// The connection survives both.
	if _, err := s.SlashCommand(ctx, SlashCommand{UserID: alice}); err != nil {
		t.Fatal(err)
	}
	c.next(t, ctx, socketmode.EventTypeSlashCommand)
	if got := s.ConnectionCount(); got != 1 {
		t.Errorf("ConnectionCount() = %d; want 1", got)
	}
}
