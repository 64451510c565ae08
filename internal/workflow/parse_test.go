package workflow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

func TestParseCommand(t *testing.T) {
	accounts := func(name string) bool { return name == "prod" || name == "dev" }
	tests := []struct {
		text string
		want parsedCommand
	}{
		{"", parsedCommand{kind: commandSelf}},
		{"  ", parsedCommand{kind: commandSelf}},
		{"reset", parsedCommand{kind: commandSelf}},
		{"ME", parsedCommand{kind: commandSelf}},
		{"help", parsedCommand{kind: commandHelp}},
		{"HELP", parsedCommand{kind: commandHelp}},
		{"please", parsedCommand{kind: commandSelf, reason: "please"}},
		{"locked out before the deploy", parsedCommand{kind: commandSelf, reason: "locked out before the deploy"}},
		{"prod", parsedCommand{kind: commandSelf, account: "prod"}},
		{"PROD locked out", parsedCommand{kind: commandSelf, account: "prod", reason: "locked out"}},
		{"staging locked out", parsedCommand{kind: commandSelf, reason: "staging locked out"}},
		{"<@U012AB3CD>", parsedCommand{kind: commandOther, target: "U012AB3CD"}},
		{"<@W012AB3CD|jo>", parsedCommand{kind: commandOther, target: "W012AB3CD"}},
		{" <@U012AB3CD|jo> ", parsedCommand{kind: commandOther, target: "U012AB3CD"}},
		{"<@U012AB3CD> dev new laptop", parsedCommand{kind: commandOther, target: "U012AB3CD", account: "dev", reason: "new laptop"}},
		{"<@U012AB3CD> <@U045EF6GH>", parsedCommand{kind: commandHelp}},
		{"<@u012ab3cd>", parsedCommand{kind: commandHelp}},
		{"<!channel> now", parsedCommand{kind: commandSelf, reason: "<!channel> now"}},
		{"<@U012AB3CD|a><b>", parsedCommand{kind: commandHelp}},
		{"@jo", parsedCommand{kind: commandBadMention}},
		{"@jo please", parsedCommand{kind: commandBadMention}},
		{strings.Repeat("a", maxCommandText+1), parsedCommand{kind: commandHelp}},
	}
	for _, tt := range tests {
		if got := parseCommand(tt.text, accounts); got != tt.want {
			t.Errorf("parseCommand(%.40q) = %+v; want %+v", tt.text, got, tt.want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "<@U012AB3CD|jo>", "@jo", "<!here>", "<@U012AB3CD>\n<@U1>", "0  0", "prod  two  spaces"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := parseCommand(text, func(name string) bool { return name == "prod" })
		kind, target := p.kind, p.target
		if p.account != "" && p.account != "prod" {
			t.Fatalf("parseCommand(%q) account %q is not a configured one", text, p.account)
		}
		if p.reason != "" && !strings.Contains(text, p.reason) {
			t.Fatalf("parseCommand(%q) reason %q is not from the text", text, p.reason)
		}
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
		w := &Workflow{}
		w.cfg.Slack.Command = "/aws-reset"
		id, answer := w.Preflight(Command{Text: text})
		if id != "" {
			answer = WorkingMessage(id)
		}
		out, err := json.Marshal(answer)
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
	out, _ := json.Marshal([]any{helpMessage("/aws-reset"), mentionHelpMessage("/aws-reset"), WorkingMessage("R0000000000")})
	return string(out)
}()

var self = Identity{TeamID: "T0TEAM0001", UserID: "U0BOT00001"}

func validClick() Click {
	return Click{
		BlockID: blockDecision, ActionID: actionApprove, Value: request.NewToken(),
		UserID: "U0ADMIN001", UserTeamID: self.TeamID, TeamID: self.TeamID,
		ChannelID: "C0APPROVE1", MessageTS: "1700000000.000100",
	}
}

func TestParseClick(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Click)
		ok   bool
	}{
		{"valid", func(*Click) {}, true},
		{"deny", func(c *Click) { c.ActionID = actionDeny }, true},
		{"reveal", func(c *Click) { c.BlockID, c.ActionID = blockReveal, actionReveal }, true},
		{"reveal action in the decision block", func(c *Click) { c.ActionID = actionReveal }, false},
		{"unknown action", func(c *Click) { c.ActionID = "approve_all" }, false},
		{"unknown block", func(c *Click) { c.BlockID = "x" }, false},
		{"tampered value", func(c *Click) { c.Value = "R0000000000" }, false},
		{"other team", func(c *Click) { c.TeamID = "T0OTHER001" }, false},
		{"user of other team", func(c *Click) { c.UserTeamID = "T0OTHER001" }, false},
		{"other org", func(c *Click) { c.EnterpriseID = "E0OTHER001" }, false},
		{"bad user", func(c *Click) { c.UserID = "<!channel>" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClick()
			tt.edit(&c)
			_, err := parseClick(c, self)
			if (err == nil) != tt.ok {
				t.Errorf("parseClick(%+v) error = %v; want ok %v", c, err, tt.ok)
			}
		})
	}
}

func FuzzParseClick(f *testing.F) {
	v := validClick()
	f.Add(v.BlockID, v.ActionID, v.Value, v.UserID, v.UserTeamID, v.TeamID, v.EnterpriseID)
	f.Add(blockReveal, actionReveal, "x", "U1", "", "T1", "")
	f.Add(blockAccount, actionAccountPrefix+"prod", "eyJyIjoiUiJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "U0AAAAAAAA", "", "T1", "")
	f.Fuzz(func(t *testing.T, block, action, value, user, userTeam, team, enterprise string) {
		c, err := parseClick(Click{BlockID: block, ActionID: action, Value: value, UserID: user, UserTeamID: userTeam,
			TeamID: team, EnterpriseID: enterprise}, self)
		if err != nil {
			return
		}
		// Anything accepted is exactly what the bot sends, from its own team.
		_, isAccount := accountOfAction(c.action)
		if block == blockAccount && !(isAccount && validChoiceClick(c.action, c.token)) ||
			block != blockAccount && (c.action != actionApprove && c.action != actionDeny && c.action != actionReveal || !request.ValidToken(c.token)) ||
			c.teamID != self.TeamID || c.enterpriseID != self.EnterpriseID {
			t.Fatalf("parseClick accepted %+v", c)
		}
	})
}

// TestMessagesEscape checks that outside text reaches messages escaped.
func TestMessagesEscape(t *testing.T) {
	w := &Workflow{accounts: map[string]Account{"a<!here>": {ID: "<!channel>"}}}
	for _, account := range []string{"", "a<!here>"} {
		req := request.Request{ID: "R0000000000", SlackUser: "U1><!channel", IAMUser: "x<!here>", Account: account}
		m := approvalMessage(req, w.iamText(req.IAMUser, req.Account), false)
		out, _ := json.Marshal(m.Blocks)
		if strings.Contains(string(out), "<!channel") || strings.Contains(string(out), "<!here") || strings.Contains(m.Text, "<!here") {
			t.Errorf("approval message lets markup through: %s", out)
		}
	}
}

func TestMessagesEscapeOwnAccount(t *testing.T) {
	m := approvalMessage(request.Request{ID: "R0000000000", SlackUser: "U1><!channel", IAMUser: "x<!here>"}, "`x`", false)
	out, _ := json.Marshal(m.Blocks)
	if strings.Contains(string(out), "<!channel") || strings.Contains(string(out), "<!here") || strings.Contains(m.Text, "<!here") {
		t.Errorf("approval message lets markup through: %s", out)
	}
}
