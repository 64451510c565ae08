package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// approvalBlocks is a message with a section and an approve/deny pair of buttons.
func approvalBlocks() slack.MsgOption {
	return slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*alice* wants a reset", false, false), nil, nil),
		slack.NewActionBlock("decision",
			slack.NewButtonBlockElement("approve", "req-1", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement("deny", "req-1", slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false)).WithStyle(slack.StyleDanger),
		),
	)
}

func TestChatRoundTrip(t *testing.T) {
	s := newServer(t, Options{})
	api := botAPI(s)
	ctx := testContext(t)
	dm := DMChannel(alice)

	ch, ts, err := api.PostMessageContext(ctx, dm, slack.MsgOptionText("Approve?", false), approvalBlocks())
	if err != nil || ch != dm || ts == "" {
		t.Fatalf("PostMessage(%s) = %q, %q, %v", dm, ch, ts, err)
	}
	m, ok := s.Message(dm, ts)
	if !ok || m.Text != "Approve?" || m.Ephemeral || m.Updates != 0 || m.User != "" {
		t.Fatalf("Message(%s, %s) = %+v, %v", dm, ts, m, ok)
	}
	var blocks slack.Blocks
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil || len(blocks.BlockSet) != 2 {
		t.Fatalf("stored blocks = %s, %v; want 2 blocks", m.Blocks, err)
	}
	if id := blocks.BlockSet[0].ID(); id == "" {
		t.Errorf("stored section block has no generated block_id: %s", m.Blocks)
	}
	if id := blocks.BlockSet[1].ID(); id != "decision" {
		t.Errorf("stored actions block_id = %q; want decision", id)
	}

	// A user ID stands for the bot's DM with that user.
	ch2, ts2, err := api.PostMessageContext(ctx, alice, slack.MsgOptionText("via user ID", false))
	if err != nil || ch2 != dm {
		t.Errorf("PostMessage(%s) = %q, %v; want channel %s", alice, ch2, err, dm)
	}

	// Text without blocks replaces the blocks.
	if _, _, _, err := api.UpdateMessageContext(ctx, dm, ts, slack.MsgOptionText("Approved", false)); err != nil {
		t.Fatalf("UpdateMessage() error = %v", err)
	}
	if m, _ := s.Message(dm, ts); m.Text != "Approved" || m.Blocks != nil || m.Updates != 1 {
		t.Errorf("after text update: %+v; want text Approved, no blocks, 1 update", m)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, dm, ts, slack.MsgOptionText("Approve?", false), approvalBlocks()); err != nil {
		t.Fatalf("UpdateMessage() error = %v", err)
	}
	if m, _ := s.Message(dm, ts); m.Blocks == nil || m.Updates != 2 {
		t.Errorf("after blocks update: %+v; want blocks, 2 updates", m)
	}

	ets, err := api.PostEphemeralContext(ctx, dm, alice, slack.MsgOptionText("only you", false))
	if err != nil {
		t.Fatalf("PostEphemeral() error = %v", err)
	}
	if m, ok := s.Message(dm, ets); !ok || !m.Ephemeral || m.User != alice || m.Text != "only you" {
		t.Errorf("Message(ephemeral) = %+v, %v", m, ok)
	}

	all := s.Messages()
	if len(all) != 3 || all[0].TS != ts || all[1].TS != ts2 || all[2].TS != ets {
		t.Fatalf("Messages() = %+v; want the 3 messages in post order", all)
	}
	if !(ts < ts2 && ts2 < ets) {
		t.Errorf("timestamps %s, %s, %s are not increasing", ts, ts2, ets)
	}
}

func TestThreadAndMetadata(t *testing.T) {
	s := newServer(t, Options{})
	api := botAPI(s)
	ctx := testContext(t)
	_, ts, err := api.PostMessageContext(ctx, alice, slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessageContext(ctx, alice, slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "reset_request", EventPayload: map[string]any{"id": "r1"}}))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.Message(DMChannel(alice), reply)
	if m.ThreadTS != ts || !strings.Contains(string(m.Metadata), "reset_request") {
		t.Errorf("reply = %+v; want thread_ts %s and the metadata", m, ts)
	}
}

func TestChatErrors(t *testing.T) {
	s := newServer(t, Options{})
	s.AddChannel("C0WITHBOT1", BotUserID, alice)
	s.AddChannel("C0NOBOT001", alice)
	api := botAPI(s)
	ctx := testContext(t)
	dm := DMChannel(alice)
	_, ts, err := api.PostMessageContext(ctx, dm, slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	ets, err := api.PostEphemeralContext(ctx, dm, alice, slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	text := slack.MsgOptionText("x", false)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"post to unknown channel", func() error { _, _, err := api.PostMessageContext(ctx, "C0UNKNOWN1", text); return err }, "channel_not_found"},
		{"post to unknown user", func() error { _, _, err := api.PostMessageContext(ctx, "U0NOBODY01", text); return err }, "channel_not_found"},
		{"post where the bot is not", func() error { _, _, err := api.PostMessageContext(ctx, "C0NOBOT001", text); return err }, "not_in_channel"},
		{"post nothing", func() error { _, _, err := api.PostMessageContext(ctx, dm); return err }, "no_text"},
		{"post too long", func() error {
			_, _, err := api.PostMessageContext(ctx, dm, slack.MsgOptionText(strings.Repeat("é", maxTextRunes+1), false))
			return err
		}, "msg_too_long"},
		{"ephemeral to another user's DM", func() error { _, err := api.PostEphemeralContext(ctx, dm, bob, text); return err }, "user_not_in_channel"},
		{"ephemeral to unknown user", func() error { _, err := api.PostEphemeralContext(ctx, dm, "U0NOBODY01", text); return err }, "user_not_in_channel"},
		{"ephemeral to non-member", func() error { _, err := api.PostEphemeralContext(ctx, "C0WITHBOT1", bob, text); return err }, "user_not_in_channel"},
		{"update unknown ts", func() error {
			_, _, _, err := api.UpdateMessageContext(ctx, dm, "1.000001", text)
			return err
		}, "message_not_found"},
		{"update ephemeral", func() error { _, _, _, err := api.UpdateMessageContext(ctx, dm, ets, text); return err }, "message_not_found"},
		{"update to nothing", func() error { _, _, _, err := api.UpdateMessageContext(ctx, dm, ts); return err }, "no_text"},
		{"update via user ID", func() error { _, _, _, err := api.UpdateMessageContext(ctx, alice, ts, text); return err }, "channel_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slackErr(tt.call()); got != tt.want {
				t.Errorf("error code = %q; want %q", got, tt.want)
			}
		})
	}
	if _, err := api.PostEphemeralContext(ctx, "C0WITHBOT1", alice, text); err != nil {
		t.Errorf("PostEphemeral(member) error = %v", err)
	}
}

// rawBlock is a block of any type, for blocks slack-go has no constructor for.
type rawBlock map[string]any

func (b rawBlock) BlockType() slack.MessageBlockType {
	t, _ := b["type"].(string)
	return slack.MessageBlockType(t)
}
func (b rawBlock) ID() string { id, _ := b["block_id"].(string); return id }

func TestInvalidBlocks(t *testing.T) {
	s := newServer(t, Options{})
	api := botAPI(s)
	plain := func(text string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
	}
	emoji := true
	many := make([]slack.Block, maxBlocks+1)
	for i := range many {
		many[i] = slack.NewDividerBlock()
	}
	tests := []struct {
		name    string
		blocks  []slack.Block
		pointer string // expected in the problem lines
	}{
		{"section text too long", []slack.Block{slack.NewSectionBlock(plain(strings.Repeat("x", 3001)), nil, nil)}, "/blocks/0/text/text"},
		{"empty section", []slack.Block{rawBlock{"type": "section"}}, "/blocks/0"},
		{"button text too long", []slack.Block{slack.NewActionBlock("a", slack.NewButtonBlockElement("go", "v", plain(strings.Repeat("x", 76))))}, "/blocks/0/elements/0/text/text"},
		{"duplicate action_id", []slack.Block{slack.NewActionBlock("a",
			slack.NewButtonBlockElement("go", "1", plain("One")), slack.NewButtonBlockElement("go", "2", plain("Two")))}, "/blocks/0/elements/1/action_id"},
		{"duplicate block_id", []slack.Block{&slack.DividerBlock{Type: slack.MBTDivider, BlockID: "d"}, &slack.DividerBlock{Type: slack.MBTDivider, BlockID: "d"}}, "/blocks/1/block_id"},
		{"emoji in mrkdwn", []slack.Block{slack.NewSectionBlock(&slack.TextBlockObject{Type: slack.MarkdownType, Text: "x", Emoji: &emoji}, nil, nil)}, "/blocks/0/text/emoji"},
		{"mrkdwn header", []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.MarkdownType, "x", false, false))}, "/blocks/0/text/type"},
		{"unknown block type", []slack.Block{rawBlock{"type": "banner"}}, "/blocks/0/type"},
		{"too many blocks", many, "/blocks"},
		{"bad button style", []slack.Block{slack.NewActionBlock("a", slack.NewButtonBlockElement("go", "v", plain("Go")).WithStyle("shiny"))}, "/blocks/0/elements/0/style"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := api.PostMessageContext(testContext(t), DMChannel(alice), slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(tt.blocks...))
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != "invalid_blocks" {
				t.Fatalf("PostMessage() error = %v; want invalid_blocks", err)
			}
			if msgs := strings.Join(se.ResponseMetadata.Messages, "\n"); !strings.Contains(msgs, "[json-pointer:"+tt.pointer+"]") {
				t.Errorf("problems = %q; want one at %s", msgs, tt.pointer)
			}
		})
	}
	if got := len(s.Messages()); got != 0 {
		t.Errorf("len(Messages()) = %d after only invalid posts; want 0", got)
	}
}

func TestBlocksFormat(t *testing.T) {
	s := newServer(t, Options{})
	for _, blocks := range []string{"not json", `{"type":"divider"}`, `[{"type":"divider"}] trailing`} {
		resp, err := http.PostForm(s.APIURL()+"chat.postMessage", url.Values{
			"token": {BotToken}, "channel": {DMChannel(alice)}, "text": {"x"}, "blocks": {blocks},
		})
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if body.Error != "invalid_blocks_format" {
			t.Errorf("chat.postMessage blocks=%q: error %q; want invalid_blocks_format", blocks, body.Error)
		}
	}
}

func TestWaitMessage(t *testing.T) {
	s := newServer(t, Options{})
	api := botAPI(s)
	ctx := testContext(t)
	found := make(chan Message, 1)
	go func() {
		// A match function may use the Server: it runs without the Server's lock.
		m, err := s.WaitMessage(ctx, func(m Message) bool { return m.Text == "Approved" && len(s.Calls("chat.update")) == 1 })
		if err != nil {
			t.Errorf("WaitMessage() error = %v", err)
		}
		found <- m
	}()
	_, ts, err := api.PostMessageContext(ctx, alice, slack.MsgOptionText("Pending", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, DMChannel(alice), ts, slack.MsgOptionText("Approved", false)); err != nil {
		t.Fatal(err)
	}
	if m := <-found; m.TS != ts || m.Updates != 1 {
		t.Errorf("WaitMessage() = %+v; want the updated message %s", m, ts)
	}

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.WaitMessage(short, func(m Message) bool { return m.Ephemeral }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitMessage(never) error = %v; want deadline exceeded", err)
	}
}
