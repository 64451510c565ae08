package workflow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// A request is acted on only with the authority it has now: each case
// changes something between the request and its use, and the use must
// reset nothing, end the request with the reason named, and tell its owner.
func TestAuthorityCheckedWhenUsed(t *testing.T) {
	removeAlice := func(c *config.Config) {
		c.Users = []config.User{{SlackUser: carol, IAMUser: "carol"}, {SlackUser: admin, IAMUser: "adminuser"}}
	}
	tests := []struct {
		name string
		// run drives a request up to the change, makes it, then uses the
		// request; it returns the request's ID.
		run  func(ft *flowTest) string
		want Outcome
	}{
		{"approved, then the owner is removed and protected; restart", func(ft *flowTest) string {
			id := ft.command(alice, "")
			ft.click(admin, ft.one("post", channel, "asks to reset"), actionApprove)
			offer := ft.one("post", dmOf(alice), "Show my new password")
			ft.restart(func(c *config.Config) { removeAlice(c); c.Reset.Protected = []string{"alice"} })
			ft.click(alice, offer, actionReveal)
			return id
		}, RefusedNotListed},
		{"pending, then alice is remapped and her IAM user given to carol; restart", func(ft *flowTest) string {
			id := ft.command(alice, "")
			m := ft.one("post", channel, "asks to reset")
			ft.iam.accounts["alice-new"] = reset.Account{Path: "/", MFADevices: 1}
			ft.restart(func(c *config.Config) {
				c.Users = []config.User{{SlackUser: alice, IAMUser: "alice-new"}, {SlackUser: carol, IAMUser: "alice"},
					{SlackUser: admin, IAMUser: "adminuser"}}
			})
			ft.click(admin, m, actionApprove)
			return id
		}, OutcomeRemapped},
		{"left resetting 30 days ago, the owner since removed and protected; restart", func(ft *flowTest) string {
			id := ft.seed(alice, "alice", request.Resetting)
			ft.now = ft.now.Add(30 * 24 * time.Hour)
			ft.restart(func(c *config.Config) { removeAlice(c); c.Reset.Protected = []string{"alice"} })
			return id
		}, RefusedNotListed},
		{"left resetting, its owner's MFA device removed before the click on the offer", func(ft *flowTest) string {
			id := ft.seed(alice, "alice", request.Resetting) // self-service: no approver let it through
			ft.restart(nil)
			offer := ft.one("post", dmOf(alice), "Show my new password")
			ft.iam.accounts["alice"] = reset.Account{Path: "/", MFADevices: 0}
			ft.click(alice, offer, actionReveal)
			return id
		}, OutcomeNoMFA},
		{"approved, then the IAM user moves under a protected path", func(ft *flowTest) string {
			ft.restart(func(c *config.Config) { c.Reset.Protected = []string{"/admins/"} })
			id := ft.command(alice, "")
			ft.click(admin, ft.one("post", channel, "asks to reset"), actionApprove)
			ft.iam.accounts["alice"] = reset.Account{Path: "/admins/", MFADevices: 1}
			ft.click(alice, ft.one("post", dmOf(alice), "Show my new password"), actionReveal)
			return id
		}, RefusedProtected},
		{"approved, then the owner is deactivated", func(ft *flowTest) string {
			id := ft.command(alice, "")
			ft.click(admin, ft.one("post", channel, "asks to reset"), actionApprove)
			p := ft.slack.people[alice]
			p.Deleted = true
			ft.slack.people[alice] = p
			ft.click(alice, ft.one("post", dmOf(alice), "Show my new password"), actionReveal)
			return id
		}, RefusedDeactivated},
		{"approved by a group member, who then leaves the group", func(ft *flowTest) string {
			id := ft.command(alice, "")
			ft.click(admin2, ft.one("post", channel, "asks to reset"), actionApprove)
			ft.slack.groups[group] = nil
			ft.click(alice, ft.one("post", dmOf(alice), "Show my new password"), actionReveal)
			return id
		}, OutcomeApproverGone},
		{"approved by a group member, then the group can't be looked up", func(ft *flowTest) string {
			id := ft.command(alice, "")
			ft.click(admin2, ft.one("post", channel, "asks to reset"), actionApprove)
			ft.slack.fail["groups"] = errors.New("ratelimited")
			ft.click(alice, ft.one("post", dmOf(alice), "Show my new password"), actionReveal)
			return id
		}, OutcomeApproverGone},
		{"started by an approver, who then stops being one", func(ft *flowTest) string {
			id := ft.command(admin, "<@"+alice+">")
			offer := ft.one("post", dmOf(alice), "Show my new password")
			ft.restart(func(c *config.Config) { c.Approval.Approvers = []string{group} })
			ft.click(alice, offer, actionReveal)
			return id
		}, OutcomeApproverGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			id := tt.run(ft)
			if n := ft.iam.resetCount(); n != 0 {
				t.Errorf("resets = %d; want 0", n)
			}
			r := ft.request(id)
			if r.State != request.Failed || r.Outcome != string(tt.want) {
				t.Errorf("request = %s, %q; want failed, %q", r.State, r.Outcome, tt.want)
			}
			if got := ft.slack.find("post", dmOf(alice), r.ID); len(got) == 0 {
				t.Errorf("the owner was not told:\n%s", ft.slack.dump())
			}
			events, err := ft.store.Audit(context.Background(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range events {
				found = found || e.RequestID == id && e.Action == request.ActionFailed && e.Outcome == string(tt.want)
			}
			if !found {
				t.Errorf("no audit row says the request failed with %q: %+v", tt.want, events)
			}
		})
	}
}

// An approver removed from the approvers' user group can't approve at
// once, even right after a click that listed the group.
func TestApproverStandingIsFresh(t *testing.T) {
	ft := newFlowTest(t, withApprovals)
	first := ft.command(alice, "")
	ft.click(admin2, ft.one("post", channel, "<@"+alice+">"), actionApprove)
	if s := ft.request(first).State; s != request.Approved {
		t.Fatalf("first request = %s; want approved", s)
	}
	ft.slack.groups[group] = nil
	second := ft.command(carol, "")
	ft.click(admin2, ft.one("post", channel, "<@"+carol+">"), actionApprove)
	if s := ft.request(second).State; s != request.Pending {
		t.Errorf("second request = %s after a click by someone no longer in the group; want pending", s)
	}
}

// An approver's standing that can't be looked up is no standing: the
// click counts for nothing, and the request waits.
func TestApproverLookupFailsClosed(t *testing.T) {
	ft := newFlowTest(t, withApprovals)
	id := ft.command(alice, "")
	ft.slack.fail["groups"] = errors.New("ratelimited")
	ft.click(admin2, ft.one("post", channel, "<@"+alice+">"), actionApprove)
	if s := ft.request(id).State; s != request.Pending {
		t.Errorf("request = %s after a click whose approver could not be looked up; want pending", s)
	}
	if n := ft.iam.resetCount(); n != 0 {
		t.Errorf("resets = %d; want 0", n)
	}
}

// checkApprover is the approver's half of the gate at use: a decision
// stored on a request still counts only from someone who may decide on it
// now. The owner never may, even in a row no click could have written.
func TestCheckApprover(t *testing.T) {
	tests := []struct {
		name, who, owner string
		groupsFail       bool
		want             Outcome
	}{
		{"an approver", admin, alice, false, ""},
		{"a member of the approvers' group", admin2, alice, false, ""},
		{"the owner, an approver", admin, admin, false, OutcomeNotAllowed},
		{"not an approver", carol, alice, false, OutcomeNotAllowed},
		{"a group member while the group can't be looked up", admin2, alice, true, OutcomeNotAllowed},
		{"not a member of the workspace", "U0NOBODY01", alice, false, RefusedLookup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			if tt.groupsFail {
				ft.slack.fail["groups"] = errors.New("ratelimited")
			}
			if got := ft.flow.checkApprover(context.Background(), tt.who, request.Request{SlackUser: tt.owner}); got != tt.want {
				t.Errorf("checkApprover(%s) on %s's request = %q; want %q", tt.who, tt.owner, got, tt.want)
			}
		})
	}
}

// Standing offers and pending approvals the configuration still allows
// survive a restart untouched; an interrupted reset is offered again and
// reset only on its owner's click.
func TestRestartReoffersWithoutResetting(t *testing.T) {
	ft := newFlowTest(t, nil)
	id := ft.seed(alice, "alice", request.Resetting)
	ft.restart(nil)
	if n := ft.iam.resetCount(); n != 0 {
		t.Fatalf("resets at start = %d; want 0", n)
	}
	offer := ft.one("post", dmOf(alice), "was interrupted")
	if r := ft.request(id); r.State != request.Approved || r.ExpiresAt.IsZero() {
		t.Fatalf("request = %s, expires %v; want approved with an expiry", r.State, r.ExpiresAt)
	}
	ft.click(alice, offer, actionReveal)
	if n := ft.iam.resetCount(); n != 1 {
		t.Errorf("resets after the owner's click = %d; want 1", n)
	}
	if s := ft.request(id).State; s != request.Delivered {
		t.Errorf("state = %s; want delivered", s)
	}
}

// An approver's "/aws-reset @someone" goes through the whole gate before
// anything is created: the person it would reach gets no offer, and no
// request stands, when the gate refuses either of them.
func TestApproverStartedResetGatedAtOnce(t *testing.T) {
	deactivate := func(ft *flowTest, who string) {
		p := ft.slack.people[who]
		p.Deleted = true
		ft.slack.people[who] = p
	}
	approverByGroup := func(ft *flowTest) {
		ft.restart(func(c *config.Config) { c.Approval.Approvers = []string{group} })
		ft.slack.groups[group] = []string{admin}
	}
	tests := []struct {
		name    string
		change  func(ft *flowTest)
		offered bool
	}{
		{"nothing refused (the control)", func(*flowTest) {}, true},
		{"the approver through a group (the control)", approverByGroup, true},
		{"the target is protected by name", func(ft *flowTest) {
			ft.restart(func(c *config.Config) { c.Reset.Protected = []string{"alice"} })
		}, false},
		{"the target's IAM user is under a protected path", func(ft *flowTest) {
			ft.restart(func(c *config.Config) { c.Reset.Protected = []string{"/admins/"} })
			ft.iam.accounts["alice"] = reset.Account{Path: "/admins/", MFADevices: 1}
		}, false},
		{"the target is deactivated", func(ft *flowTest) { deactivate(ft, alice) }, false},
		{"the approver is deactivated", func(ft *flowTest) { deactivate(ft, admin) }, false},
		{"the approver's group can't be looked up", func(ft *flowTest) {
			approverByGroup(ft)
			ft.slack.fail["groups"] = errors.New("ratelimited")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			tt.change(ft)
			ft.command(admin, "<@"+alice+">")
			want := 0 // offers, and requests standing
			if tt.offered {
				want = 1
			}
			if got := ft.slack.find("post", dmOf(alice), "Show my new password"); len(got) != want {
				t.Errorf("offers to the target = %d; want %d", len(got), want)
			}
			active := 0
			for _, s := range request.ActiveStates() {
				rs, err := ft.store.RequestsInState(context.Background(), s)
				if err != nil {
					t.Fatal(err)
				}
				active += len(rs)
			}
			if active != want {
				t.Errorf("active requests = %d; want %d", active, want)
			}
			if n := ft.iam.resetCount(); n != 0 {
				t.Errorf("resets = %d; want 0", n)
			}
		})
	}
}

// An approver blocked by the target's request is told the truth.
func TestApproverToldOfTheTargetsActiveRequest(t *testing.T) {
	ft := newFlowTest(t, withApprovals)
	id := ft.command(alice, "")
	ft.command(admin, "<@"+alice+">")
	ft.one("ephemeral", dmOf(admin), "<@"+alice+"> already has a reset request in progress (request "+id+")")
}

// Two replicas that both saw a request left in work (approved, its reset
// not begun) make one offer between them: the second one's move finds it
// offered already.
func TestReofferOnceFromAStaleRow(t *testing.T) {
	ft := newFlowTest(t, nil)
	id := ft.seed(alice, "alice", request.Approved)
	stale := ft.request(id) // what both read
	log := ft.flow.log
	ft.flow.reoffer(context.Background(), log, stale)
	ft.flow.reoffer(context.Background(), log, stale)
	if got := ft.slack.find("post", dmOf(alice), "was interrupted"); len(got) != 1 {
		t.Errorf("offers = %d; want 1:\n%s", len(got), ft.slack.dump())
	}
}
