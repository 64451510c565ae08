package workflow

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

const admin3 = "U0ADMIN003"

// jsonText is s as it reads inside a message's body (its blocks as JSON).
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// holds reports whether m's text or blocks read want.
func holds(m sent, want string) bool {
	return strings.Contains(m.body(), want) || strings.Contains(m.body(), jsonText(want))
}

// twoOfThree needs two of admin, admin3 and the group (admin2).
func twoOfThree(c *config.Config) {
	withApprovals(c)
	c.Approval.Approvers = append(c.Approval.Approvers, admin3)
	c.Approval.MinApprovals = 2
}

func newTallyTest(t *testing.T, edit func(*config.Config)) *flowTest {
	ft := newFlowTest(t, edit)
	ft.slack.add(Person{ID: admin3})
	return ft
}

// Several approvers: distinct approvers count, the same one twice counts
// once, the requester never, a Deny ends it.
func TestSeveralApprovers(t *testing.T) {
	type click struct{ who, action string }
	tests := []struct {
		name      string
		requester string
		clicks    []click
		state     request.State
		progress  string // in the approval message at the end
		offers    int
	}{
		{"two distinct", alice, []click{{admin, actionApprove}, {admin2, actionApprove}}, request.Approved,
			"Approved by <@U0ADMIN001>, <@U0ADMIN002>", 1},
		{"one, twice", alice, []click{{admin, actionApprove}, {admin, actionApprove}}, request.Pending,
			"Approved by <@U0ADMIN001> — 1 of 2", 0},
		{"self-approval never counts", admin, []click{{admin, actionApprove}, {admin3, actionApprove}}, request.Pending,
			"Approved by <@U0ADMIN003> — 1 of 2", 0},
		{"deny after one approval", alice, []click{{admin, actionApprove}, {admin3, actionDeny}}, request.Denied,
			"Denied by <@U0ADMIN003>", 0},
		{"no approval after a deny", alice, []click{{admin, actionDeny}, {admin3, actionApprove}, {admin2, actionApprove}}, request.Denied,
			"Denied by <@U0ADMIN001>", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newTallyTest(t, twoOfThree)
			id := ft.command(tt.requester, "locked out")
			msg := ft.one("post", channel, "asks to reset")
			if !strings.Contains(msg.body(), "Needs 2 approvers") {
				t.Errorf("approval message does not say two are needed: %s", msg.body())
			}
			for _, c := range tt.clicks {
				ft.click(c.who, msg, c.action)
			}
			if got := ft.request(id).State; got != tt.state {
				t.Errorf("state = %s; want %s\n%s", got, tt.state, ft.slack.dump())
			}
			updates := ft.slack.find("update", channel, "")
			if len(updates) == 0 || !holds(updates[len(updates)-1], tt.progress) {
				t.Errorf("last approval message update does not hold %q:\n%s", tt.progress, ft.slack.dump())
			}
			owner := tt.requester
			if got := len(ft.slack.find("post", dmOf(owner), "Show my new password")); got != tt.offers {
				t.Errorf("offers = %d; want %d", got, tt.offers)
			}
			if n := ft.iam.resetCount(); n != 0 {
				t.Errorf("resets = %d before the owner asked; want 0", n)
			}
		})
	}
}

// The reason: limited, shown to the approvers exactly as typed with
// nothing in it acting, and kept in the audit trail.
func TestReason(t *testing.T) {
	hostile := "<!channel> ask <@U0EVIL0001> at <https://evil.example|the wiki> *now* `x`"
	tests := []struct {
		name     string
		text     string
		answer   string   // Preflight's answer, "" for work
		shown    string   // in the approval message
		notShown []string // never in the approval message
		stored   string   // in the audit trail; "" for the text as given
	}{
		{"escaped by Slack", "a &lt;b&gt; &amp;amp; c", "", "Reason: `a &lt;b&gt; &amp;amp; c`", nil, "a <b> &amp; c"},
		{"plain", "locked out before the deploy", "", "Reason: `locked out before the deploy`", nil, ""},
		{"none", "", "", "Reason: none given.", nil, ""},
		{"hostile", hostile, "", "Reason: `&lt;!channel&gt; ask &lt;@U0EVIL0001&gt; at &lt;https://evil.example|the wiki&gt; *now* 'x'`",
			[]string{"<!channel>", "<@U0EVIL0001>", "<https://evil.example"}, ""},
		{"too long", strings.Repeat("x", MaxReason+1), "300 characters", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			cmd := Command{EnvelopeID: "E1", Command: "/aws-reset", Text: tt.text, UserID: alice, TeamID: team}
			id, answer := ft.flow.Preflight(cmd)
			if tt.answer != "" {
				if id != "" || !strings.Contains(answer.Text, tt.answer) {
					t.Errorf("Preflight(%q) = %q, %q; want an answer with %q", tt.text, id, answer.Text, tt.answer)
				}
				return
			}
			ft.flow.HandleCommand(context.Background(), cmd, id)
			body := ft.one("post", channel, "asks to reset").body()
			if !strings.Contains(body, tt.shown) && !strings.Contains(body, jsonText(tt.shown)) {
				t.Errorf("approval message lacks %q:\n%s", tt.shown, body)
			}
			for _, bad := range tt.notShown {
				if strings.Contains(body, bad) || strings.Contains(body, jsonText(bad)) {
					t.Errorf("approval message holds %q:\n%s", bad, body)
				}
			}
			events, err := ft.store.Audit(context.Background(), time.Time{})
			want := tt.stored
			if want == "" {
				want = strings.TrimSpace(tt.text)
			}
			if err != nil || len(events) == 0 || events[0].Reason != want {
				t.Errorf("audit = %+v, %v; want the request's row with reason %q", events, err, want)
			}
		})
	}
}

// The audit channel's line for a delivered reset carries the reason as the
// approvers see it: escaped, on one line, in a code span; never the
// password.
func TestAuditMirrorReason(t *testing.T) {
	const audit = "C0AUDIT001"
	tests := []struct {
		name     string
		text     string
		shown    string
		notShown []string
	}{
		{"hostile", "<!channel> locked `out`\n*now*", "; delivered. Reason: `&lt;!channel&gt; locked 'out' *now*`",
			[]string{"<!channel>", "`out`", "\n"}},
		{"none", "", "; delivered.", []string{"Reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, func(c *config.Config) { c.Audit.Channel = audit })
			ft.command(alice, tt.text)
			m := ft.one("post", audit, "delivered").Msg
			if !strings.HasSuffix(m.Text, tt.shown) {
				t.Errorf("audit line %q; want it to end %q", m.Text, tt.shown)
			}
			for _, bad := range append(tt.notShown, ft.iam.passwords...) {
				if strings.Contains(m.Text, bad) {
					t.Errorf("audit line %q holds %q", m.Text, bad)
				}
			}
			if b, _ := json.Marshal(m.Blocks); !strings.Contains(string(b), jsonText(m.Text)) {
				t.Errorf("audit blocks %s do not read as the text %q", b, m.Text)
			}
		})
	}
}

// With require_reason and no reason, a modal asks; submitting it goes on
// with that reason, and without a trigger the person is told how to give
// it on the command line.
func TestReasonModal(t *testing.T) {
	requireReason := func(c *config.Config) { withApprovals(c); c.Approval.RequireReason = true }
	t.Run("submitted", func(t *testing.T) {
		ft := newFlowTest(t, requireReason)
		cmd := Command{EnvelopeID: "E1", Command: "/aws-reset", UserID: alice, TeamID: team, TriggerID: "1.2.trigger"}
		id, _ := ft.flow.Preflight(cmd)
		ft.flow.HandleCommand(context.Background(), cmd, id)
		modal := ft.one("view.open", "1.2.trigger", id)
		if got := ft.slack.find("post", channel, ""); len(got) != 0 {
			t.Fatalf("asked the approvers before the reason was given")
		}
		sub := ViewSubmission{ViewID: "V1", CallbackID: viewReason, PrivateMetadata: modal.Msg.Text, UserID: alice, TeamID: team,
			Values: map[string]map[string]string{blockReason: {actionReason: "  <!here> locked out  "}}}
		if errs := ft.flow.CheckReason(sub); errs != nil {
			t.Fatalf("CheckReason = %v; want none", errs)
		}
		ft.flow.HandleViewSubmission(context.Background(), sub)
		ft.one("post", channel, jsonText("Reason: `&lt;!here&gt; locked out`"))
		if r := ft.request(id); r.Reason != "<!here> locked out" || r.State != request.Pending {
			t.Errorf("request = %s with reason %q; want pending with the modal's reason", r.State, r.Reason)
		}
	})
	t.Run("no trigger", func(t *testing.T) {
		ft := newFlowTest(t, requireReason)
		id := ft.command(alice, "")
		ft.one("ephemeral", dmOf(alice), "Give it after the command")
		if _, err := ft.store.Request(context.Background(), id); err == nil {
			t.Errorf("a request was created without its reason")
		}
	})
	t.Run("reason given", func(t *testing.T) {
		ft := newFlowTest(t, requireReason)
		ft.command(alice, "locked out")
		ft.one("post", channel, "Reason: `locked out`")
	})
	t.Run("field errors", func(t *testing.T) {
		ft := newFlowTest(t, requireReason)
		for _, text := range []string{" ", strings.Repeat("é", MaxReason+1)} {
			sub := ViewSubmission{CallbackID: viewReason, Values: map[string]map[string]string{blockReason: {actionReason: text}}}
			if errs := ft.flow.CheckReason(sub); errs[blockReason] == "" {
				t.Errorf("CheckReason(%q) = %v; want a problem", text, errs)
			}
		}
	})
}

// The approvers are nudged once, in the thread, while undecided; never
// after a decision.
func TestApproversReminder(t *testing.T) {
	remind := func(c *config.Config) { withApprovals(c); c.Approval.RemindAfter = config.Duration(10 * time.Minute) }
	t.Run("undecided", func(t *testing.T) {
		ft := newFlowTest(t, remind)
		ft.command(alice, "")
		ft.flow.Sweep(context.Background())
		if n := ft.slack.count("reply", ""); n != 0 {
			t.Fatalf("reminded before remind_after")
		}
		ft.now = ft.now.Add(11 * time.Minute)
		ft.flow.Sweep(context.Background())
		ft.restart(nil) // another replica, or a restart
		ft.flow.Sweep(context.Background())
		r := ft.one("reply", channel, "still waiting")
		for _, want := range []string{"<@U0ADMIN001>", "<!subteam^S0ADMINS01>"} {
			if !strings.Contains(r.Msg.Text, want) {
				t.Errorf("reminder %q does not mention %s", r.Msg.Text, want)
			}
		}
	})
	t.Run("decided", func(t *testing.T) {
		ft := newFlowTest(t, remind)
		ft.command(alice, "")
		ft.click(admin, ft.one("post", channel, "asks to reset"), actionDeny)
		ft.now = ft.now.Add(11 * time.Minute)
		ft.flow.Sweep(context.Background())
		if n := ft.slack.count("reply", ""); n != 0 {
			t.Errorf("reminded %d times after the decision", n)
		}
	})
}
