package slackbot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text   string
		kind   commandKind
		target string
	}{
		{"", commandSelf, ""},
		{"  ", commandSelf, ""},
		{"reset", commandSelf, ""},
		{"ME", commandSelf, ""},
		{"help", commandHelp, ""},
		{"please", commandHelp, ""},
		{"<@U012AB3CD>", commandOther, "U012AB3CD"},
		{"<@W012AB3CD|jo>", commandOther, "W012AB3CD"},
		{" <@U012AB3CD|jo> ", commandOther, "U012AB3CD"},
		{"<@U012AB3CD> <@U045EF6GH>", commandHelp, ""},
		{"<@u012ab3cd>", commandHelp, ""},
		{"<!channel>", commandHelp, ""},
		{"<@U012AB3CD|a><b>", commandHelp, ""},
		{"@jo", commandBadMention, ""},
		{"@jo please", commandHelp, ""},
		{strings.Repeat("a", maxCommandText+1), commandHelp, ""},
	}
	for _, tt := range tests {
		kind, target := parseCommand(tt.text)
		if kind != tt.kind || target != tt.target {
			t.Errorf("parseCommand(%.40q) = %v, %q; want %v, %q", tt.text, kind, target, tt.kind, tt.target)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "<@U012AB3CD|jo>", "@jo", "<!here>", "<@U012AB3CD>\n<@U1>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		kind, target := parseCommand(text)
		switch kind {
		case commandOther:
			if !mentionPattern.MatchString("<@"+target+">") || !strings.Contains(text, target) {
				t.Fatalf("parseCommand(%q) target %q is not a mention from the text", text, target)
			}
		default:
			if target != "" {
				t.Fatalf("parseCommand(%q) = %v with target %q", text, kind, target)
			}
		}
		// What the bot answers at once never echoes the text.
		b := &Bot{}
		b.cfg.Slack.Command = "/aws-reset"
		_, reply := b.preflight(slack.SlashCommand{Text: text})
		out, err := json.Marshal(reply)
		if err != nil {
			t.Fatal(err)
		}
		if len(text) > 3 && strings.Contains(string(out), text) && !strings.Contains(helpAndWorking, text) {
			t.Fatalf("the ack echoes the command text %q", text)
		}
	})
}

// helpAndWorking is every fixed reply, so text that happens to be part of
// it is not mistaken for an echo.
var helpAndWorking = func() string {
	out, _ := json.Marshal([]any{ackPayload(helpMessage("/aws-reset")), ackPayload(mentionHelpMessage("/aws-reset")),
		ackPayload(workingMessage("R0000000000"))})
	return string(out)
}()

var self = identity{TeamID: "T0TEAM0001", UserID: "U0BOT00001"}

func validClick() slack.InteractionCallback {
	var cb slack.InteractionCallback
	cb.Type = slack.InteractionTypeBlockActions
	cb.Team.ID = self.TeamID
	cb.User.ID, cb.User.TeamID = "U0ADMIN001", self.TeamID
	cb.Channel.ID = "C0APPROVE1"
	cb.Container.MessageTs = "1700000000.000100"
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: actionApprove, BlockID: blockDecision, Value: request.NewToken()}}
	return cb
}

func TestParseClick(t *testing.T) {
	tests := []struct {
		name string
		edit func(*slack.InteractionCallback)
		ok   bool
	}{
		{"valid", func(*slack.InteractionCallback) {}, true},
		{"deny", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions[0].ActionID = actionDeny }, true},
		{"other type", func(cb *slack.InteractionCallback) { cb.Type = slack.InteractionTypeViewSubmission }, false},
		{"no action", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions = nil }, false},
		{"two actions", func(cb *slack.InteractionCallback) {
			cb.ActionCallback.BlockActions = append(cb.ActionCallback.BlockActions, cb.ActionCallback.BlockActions[0])
		}, false},
		{"unknown action", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions[0].ActionID = "approve_all" }, false},
		{"unknown block", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions[0].BlockID = "x" }, false},
		{"tampered value", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions[0].Value = "R0000000000" }, false},
		{"other team", func(cb *slack.InteractionCallback) { cb.Team.ID = "T0OTHER001" }, false},
		{"user of other team", func(cb *slack.InteractionCallback) { cb.User.TeamID = "T0OTHER001" }, false},
		{"other org", func(cb *slack.InteractionCallback) { cb.Team.EnterpriseID = "E0OTHER001" }, false},
		{"bad user", func(cb *slack.InteractionCallback) { cb.User.ID = "<!channel>" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := validClick()
			tt.edit(&cb)
			_, err := parseClick(cb, self)
			if (err == nil) != tt.ok {
				t.Errorf("parseClick() error = %v; want ok %v", err, tt.ok)
			}
		})
	}
}

func FuzzParseClick(f *testing.F) {
	seed, _ := json.Marshal(validClick())
	f.Add(seed)
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"aws_reset_approve","block_id":"aws_reset_decision","value":"x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(payload, &cb) != nil {
			return
		}
		c, err := parseClick(cb, self)
		if err != nil {
			return
		}
		// Anything accepted is exactly what the bot sends, from its own team.
		if c.action != actionApprove && c.action != actionDeny || !request.ValidToken(c.token) ||
			c.teamID != self.TeamID || c.enterpriseID != self.EnterpriseID {
			t.Fatalf("parseClick accepted %+v", c)
		}
	})
}

// TestMessagesEscape checks that outside text reaches messages escaped.
func TestMessagesEscape(t *testing.T) {
	m := approvalMessage(request.Request{ID: "R0000000000", SlackUser: "U1><!channel", IAMUser: "x<!here>"}, false)
	out, _ := json.Marshal(m.Blocks)
	if strings.Contains(string(out), "<!channel") || strings.Contains(string(out), "<!here") || strings.Contains(m.Text, "<!here") {
		t.Errorf("approval message lets markup through: %s", out)
	}
}
