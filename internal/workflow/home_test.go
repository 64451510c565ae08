package workflow

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// What each person's Home tab shows.
func TestHomeTab(t *testing.T) {
	tests := []struct {
		name    string
		user    string
		want    []string
		notWant []string
	}{
		{"listed", alice, []string{"`alice`", "Reset my password", "expires", "No reset by this bot yet"},
			[]string{"Waiting for your decision", "You are not listed"}},
		{"approver", admin2, []string{"Waiting for your decision", "`carol`", "Reason: `locked out`", "aws_reset_approve"},
			[]string{"Reset my password", "You are not listed"}},
		{"stranger", stranger, []string{"You are not listed", "ask your AWS administrators to add you"},
			[]string{"IAM user", "Reset my password", "expires", "Waiting"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			ft.command(carol, "locked out")
			ft.flow.HandleHomeOpened(context.Background(), HomeOpened{UserID: tt.user, TeamID: team, Tab: "home"})
			home := ft.slack.home(tt.user)
			for _, w := range tt.want {
				if !strings.Contains(home, w) && !strings.Contains(home, jsonText(w)) {
					t.Errorf("Home of %s lacks %q: %s", tt.user, w, home)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(home, w) {
					t.Errorf("Home of %s holds %q: %s", tt.user, w, home)
				}
			}
		})
	}
}

// Each listing on the Home tab shows its own account's last reset: the
// same IAM user name in two accounts is two IAM users.
func TestHomeLastResetPerAccount(t *testing.T) {
	ft, dev := accountsFlow(t, func(c *config.Config) {
		for i, u := range c.Users {
			if u.Account == "dev" {
				c.Users[i].IAMUser = "bob"
			}
		}
	}, nil)
	dev.accounts["bob"] = dev.accounts["bob-dev"]
	id := ft.command(bob, "prod")
	if got := ft.request(id).State; got != request.Delivered {
		t.Fatalf("state = %s; want delivered", got)
	}
	ft.flow.HandleHomeOpened(context.Background(), HomeOpened{UserID: bob, TeamID: team, Tab: "home"})
	want := map[string]string{"`prod`": "Last reset", "`dev`": "No reset by this bot yet"}
	for _, text := range ft.slack.homeSections(bob) {
		for account, w := range want {
			if strings.Contains(text, "AWS account "+account) {
				if !strings.Contains(text, w) {
					t.Errorf("Home listing %q lacks %q", text, w)
				}
				delete(want, account)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("Home of bob lists no IAM user in %v", want)
	}
}

// homeSections returns the texts of the sections of user's latest Home tab.
func (m *memSlack) homeSections(user string) []string {
	var blocks []struct {
		Type string `json:"type"`
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal([]byte(m.home(user)), &blocks); err != nil {
		return nil
	}
	var out []string
	for _, b := range blocks {
		if b.Type == "section" {
			out = append(out, b.Text.Text)
		}
	}
	return out
}

// The Home tab's buttons: Reset runs the command's path, for the clicker
// alone; Approve there is held to the channel's rules; the Home is
// published again once something changed.
func TestHomeButtons(t *testing.T) {
	t.Run("reset", func(t *testing.T) {
		ft := newFlowTest(t, nil)
		ft.flow.HandleHomeOpened(context.Background(), HomeOpened{UserID: alice, TeamID: team, Tab: "home"})
		ft.homeClick(alice, alice, actionHomeReset, "alice")
		ft.one("ephemeral", dmOf(alice), "Your new temporary AWS console password")
		if home := ft.slack.home(alice); !strings.Contains(home, "Last reset") {
			t.Errorf("Home not refreshed after the reset: %s", home)
		}
		for _, s := range ft.slack.find("view.publish", "", "") {
			if strings.Contains(s.body(), ft.iam.passwords[0]) {
				t.Errorf("the password is on the Home tab")
			}
		}
	})
	t.Run("someone else's click", func(t *testing.T) {
		ft := newFlowTest(t, nil)
		ft.homeClick(carol, alice, actionHomeReset, "alice")
		ft.one("ephemeral", dmOf(carol), "This button is for someone else")
		if n := ft.iam.resetCount(); n != 0 {
			t.Errorf("resets = %d; want 0", n)
		}
	})
	t.Run("approve on the Home tab", func(t *testing.T) {
		ft := newFlowTest(t, withApprovals)
		id := ft.command(alice, "")
		ft.flow.HandleHomeOpened(context.Background(), HomeOpened{UserID: admin, TeamID: team, Tab: "home"})
		ft.homeClick(carol, admin, actionApprove, ft.request(id).Token) // carol is no approver
		if got := ft.request(id).State; got != request.Pending {
			t.Fatalf("state after a non-approver's click = %s; want pending", got)
		}
		ft.homeClick(admin, admin, actionApprove, ft.request(id).Token)
		if got := ft.request(id).State; got != request.Approved {
			t.Errorf("state = %s; want approved", got)
		}
		ft.one("update", channel, "Approved by")
		if home := ft.slack.home(admin); strings.Contains(home, id) {
			t.Errorf("the approver's Home still lists the decided request: %s", home)
		}
	})
}

// homeClick presses a button on owner's Home tab, as user.
func (ft *flowTest) homeClick(user, owner, actionID, value string) {
	ft.t.Helper()
	blockID := blockHomeReset + "0"
	if actionID != actionHomeReset {
		blockID = blockHomeDecision + "x"
	}
	ft.flow.HandleClick(context.Background(), Click{UserID: user, UserTeamID: team, TeamID: team, View: "home",
		BlockID: blockID, ActionID: actionID, Value: value})
}

// The Home tab is published again only for people who opened it: the
// others get it fresh when they do.
func TestHomeRefreshedOnlyOnceOpened(t *testing.T) {
	ft := newFlowTest(t, nil)
	ft.command(alice, "")
	if n := ft.slack.count("view.publish", ""); n != 0 {
		t.Errorf("%d Home tabs published for nobody looking; want 0", n)
	}
	ft.flow.HandleHomeOpened(context.Background(), HomeOpened{UserID: carol, TeamID: team, Tab: "messages"})
	if n := ft.slack.count("view.publish", ""); n != 0 {
		t.Errorf("published a Home tab for the Messages tab")
	}
}

// A listed guest is not asked for a reason: the modal would tell them
// they are listed. They get the refusal everyone gets.
func TestReasonNotAskedOfGuests(t *testing.T) {
	ft := newFlowTest(t, func(c *config.Config) { withApprovals(c); c.Approval.RequireReason = true })
	p := ft.slack.people[alice]
	p.Guest = true
	ft.slack.people[alice] = p
	cmd := Command{EnvelopeID: "E1", Command: "/aws-reset", UserID: alice, TeamID: team, TriggerID: "1.2.trigger"}
	id, _ := ft.flow.Preflight(cmd)
	ft.flow.HandleCommand(context.Background(), cmd, id)
	if n := ft.slack.count("view.open", ""); n != 0 {
		t.Errorf("opened a modal for a guest")
	}
	ft.one("ephemeral", dmOf(alice), refusedWords)
}
