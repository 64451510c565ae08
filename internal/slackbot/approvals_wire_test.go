package slackbot_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

const admin3 = "U0ADMIN003" // a third approver, by ID

var requestIDIn = regexp.MustCompile(`\(request (R[0-9A-Z]+)\)`)

// requestOf reads the request an approval message is about.
func (h *harness) requestOf(m fakeslack.Message) request.Request {
	h.t.Helper()
	sm := requestIDIn.FindStringSubmatch(m.Text)
	if sm == nil {
		h.t.Fatalf("no request ID in %q", m.Text)
	}
	r, err := h.store.Request(context.Background(), sm[1])
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// waitUpdate waits until the message at m holds want (it is updated in place).
func (h *harness) waitUpdate(m fakeslack.Message, want string) fakeslack.Message {
	h.t.Helper()
	got, err := h.slack.WaitMessage(h.ctx(), func(x fakeslack.Message) bool {
		return x.Channel == m.Channel && x.TS == m.TS && strings.Contains(x.Text+string(x.Blocks), want)
	})
	if err != nil {
		cur, _ := h.slack.Message(m.Channel, m.TS)
		h.t.Fatalf("the message never read %q; it reads %s", want, cur.Blocks)
	}
	return got
}

// A reason reaches the approvers as plain text: no mention, @channel,
// link or formatting of the requester's acts in their channel; and it is
// in the audit trail.
func TestReasonReachesApproversAsText(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	reason := "<!channel> ask <@U0ADMIN002> or see <https://evil.example|the runbook> *now*"
	h.command(alice, reason)
	m := h.waitApprovalMessage("alice")
	body := m.Text + string(m.Blocks)
	for _, bad := range []string{"<!channel>", "<@U0ADMIN002>", "<https://evil.example"} {
		if strings.Contains(body, bad) {
			t.Errorf("the approval message holds %q, which Slack would act on: %s", bad, m.Blocks)
		}
	}
	want := "Reason: `&lt;!channel&gt; ask &lt;@U0ADMIN002&gt; or see &lt;https://evil.example|the runbook&gt; *now*`"
	if !strings.Contains(string(m.Blocks), want) {
		t.Errorf("the approval message does not show the reason quoted: %s", m.Blocks)
	}
	events, err := h.store.Audit(context.Background(), time.Time{})
	if err != nil || len(events) == 0 || events[0].Reason != reason {
		t.Errorf("audit = %+v, %v; want the request with its reason", events, err)
	}
}

// With require_reason, a command without one opens a modal on its
// trigger; the submission goes on to the approvers; an empty one is sent
// back with a field error.
func TestReasonModalOverTheWire(t *testing.T) {
	h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Approval.RequireReason = true }))
	h.start()
	h.command(alice, "")
	modal, err := h.slack.WaitView(h.ctx(), func(v fakeslack.View) bool { return v.Type == "modal" })
	if err != nil {
		t.Fatalf("no modal: %v", err)
	}
	// Until it is submitted (or if it is closed), nothing is created.
	if reqs, err := h.store.RequestsInState(context.Background(), request.Pending); err != nil || len(reqs) != 0 {
		t.Fatalf("requests before the reason was given = %v, %v; want none", reqs, err)
	}
	var fields struct {
		Errors map[string]string `json:"errors"`
		Action string            `json:"response_action"`
	}
	id, err := h.slack.ViewSubmission(h.ctx(), fakeslack.ViewSubmission{UserID: alice, ViewID: modal.ID,
		Values: map[string]map[string]string{"aws_reset_reason": {"aws_reset_reason_text": "   "}}})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := h.slack.WaitAck(h.ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if json.Unmarshal(ack.Payload, &fields) != nil || fields.Action != "errors" || fields.Errors["aws_reset_reason"] == "" {
		t.Errorf("ack of an empty reason = %s; want response_action errors on the reason", ack.Payload)
	}
	id, err = h.slack.ViewSubmission(h.ctx(), fakeslack.ViewSubmission{UserID: alice, ViewID: modal.ID,
		Values: map[string]map[string]string{"aws_reset_reason": {"aws_reset_reason_text": "locked out *before* the deploy"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err = h.slack.WaitAck(h.ctx(), id); err != nil || len(ack.Payload) != 0 {
		t.Errorf("ack of a reason = %s, %v; want an empty ack, which closes the modal", ack.Payload, err)
	}
	m := h.waitApprovalMessage("alice")
	if !strings.Contains(string(m.Blocks), "Reason: `locked out *before* the deploy`") {
		t.Errorf("approval message lacks the modal's reason: %s", m.Blocks)
	}
}

// Where the modal can't be opened (the trigger ran out), the person is
// told how to give the reason on the command line.
func TestReasonModalFails(t *testing.T) {
	h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Approval.RequireReason = true }))
	h.start()
	h.slack.FailNext("views.open", 1, fakeslack.Fault{Error: "expired_trigger_id"})
	h.command(alice, "")
	h.waitEphemeral(alice, "Give it after the command")
	if reqs, err := h.store.RequestsInState(context.Background(), request.Pending); err != nil || len(reqs) != 0 {
		t.Errorf("requests = %v, %v; want none", reqs, err)
	}
}

// Two of three approvers: a double click counts once, the requester never
// counts, a Deny after one approval ends it.
func TestTwoOfThreeOverTheWire(t *testing.T) {
	twoOfThree := func(h *harness) {
		withApproval()(h)
		h.cfg.Approval.Approvers = append(h.cfg.Approval.Approvers, admin3)
		h.cfg.Approval.MinApprovals = 2
		h.slack.AddUser(fakeslack.User{ID: admin3, Name: "admin3"})
		h.slack.AddChannel(approvalChannel, fakeslack.BotUserID, admin, admin2, admin3)
	}
	t.Run("double click, then a second approver", func(t *testing.T) {
		h := newHarness(t, twoOfThree)
		h.start()
		h.command(alice, "locked out")
		m := h.waitApprovalMessage("alice")
		var wg sync.WaitGroup
		for range 2 { // the same approver, twice at once
			wg.Go(func() { h.click(admin, m, approveID) })
		}
		wg.Wait()
		h.waitUpdate(m, "1 of 2")
		h.waitEphemeral(admin, "already approved")
		if st := h.requestOf(m).State; st != request.Pending {
			t.Fatalf("state after one approver = %s; want pending", st)
		}
		h.click(admin2, m, approveID)
		h.waitUpdate(m, "Approved by <@U0ADMIN001>, <@U0ADMIN002>")
		h.reveal(alice)
		h.waitEphemeral(alice, "Your new temporary AWS console password")
	})
	t.Run("self-approval", func(t *testing.T) {
		h := newHarness(t, twoOfThree)
		h.start()
		h.command(admin, "locked out")
		m := h.waitApprovalMessage("adminuser")
		h.click(admin, m, approveID)
		h.waitEphemeral(admin, "You can't decide on a request for your own password")
		h.click(admin3, m, approveID)
		h.waitUpdate(m, "Approved by <@U0ADMIN003> — 1 of 2")
		if st := h.requestOf(m).State; st != request.Pending {
			t.Errorf("state = %s; want pending: the requester's click never counts", st)
		}
	})
	t.Run("deny after one approval", func(t *testing.T) {
		h := newHarness(t, twoOfThree)
		h.start()
		h.command(alice, "locked out")
		m := h.waitApprovalMessage("alice")
		h.click(admin, m, approveID)
		h.waitUpdate(m, "1 of 2")
		h.click(admin3, m, denyID)
		h.waitUpdate(m, "Denied by <@U0ADMIN003>")
		h.waitDM(alice, "denied your password reset request")
		if st := h.requestOf(m).State; st != request.Denied {
			t.Errorf("state = %s; want denied", st)
		}
	})
}

// The approvers are nudged once, in the approval message's thread,
// mentioning the people and the group; never again, not after expiry.
func TestApproversNudgedOnce(t *testing.T) {
	h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Approval.RemindAfter = config.Duration(10 * time.Minute) }))
	h.start()
	h.command(alice, "")
	m := h.waitApprovalMessage("alice")
	h.clock.Advance(11 * time.Minute)
	nudge, err := h.slack.WaitMessage(h.ctx(), func(x fakeslack.Message) bool { return x.ThreadTS == m.TS })
	if err != nil {
		t.Fatalf("no nudge in the thread: %s", h.dump())
	}
	for _, want := range []string{"<@U0ADMIN001>", "<!subteam^S0ADMINS01>", "still waiting"} {
		if !strings.Contains(nudge.Text, want) {
			t.Errorf("nudge %q lacks %s", nudge.Text, want)
		}
	}
	h.clock.Advance(20 * time.Minute) // past approval.timeout: the sweeps that follow expire it
	h.waitUpdate(m, "Expired")
	n := 0
	for _, x := range h.slack.Messages() {
		if x.ThreadTS == m.TS {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d nudges; want 1", n)
	}
}

// homeOpened opens user's Home tab and waits for a Home published after
// it, holding want.
func (h *harness) homeOpened(user, want string) fakeslack.View {
	h.t.Helper()
	before := len(h.slack.Views())
	id, err := h.slack.AppHomeOpened(h.ctx(), user)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.slack.WaitAck(h.ctx(), id); err != nil {
		h.t.Fatal(err)
	}
	v, err := h.slack.WaitView(h.ctx(), func(v fakeslack.View) bool {
		return v.Type == "home" && v.UserID == user && strings.Contains(string(v.Blocks), want) && viewIndex(h, v) >= before
	})
	if err != nil {
		h.t.Fatalf("no Home tab for %s holding %q: %v", user, want, h.slack.Views())
	}
	return v
}

func viewIndex(h *harness, v fakeslack.View) int {
	for i, x := range h.slack.Views() {
		if x.ID == v.ID {
			return i
		}
	}
	return -1
}

// The Home tab: a listed person's IAM user and button, an approver's
// waiting requests, a stranger's explanation and nothing about IAM; the
// button runs the command's path, for the clicker alone.
func TestHomeTabOverTheWire(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	listed := h.homeOpened(alice, "Reset my password")
	if !strings.Contains(string(listed.Blocks), "`alice`") {
		t.Errorf("alice's Home lacks her IAM user: %s", listed.Blocks)
	}
	stranger := h.homeOpened(bob, "not listed")
	for _, bad := range []string{"IAM user", "Reset my password", "expires"} {
		if strings.Contains(string(stranger.Blocks), bad) {
			t.Errorf("a stranger's Home holds %q: %s", bad, stranger.Blocks)
		}
	}

	// Someone else's click on alice's button: refused, nothing reset.
	h.clickAction(fakeslack.BlockAction{UserID: bob, ViewID: listed.ID, ActionID: "aws_reset_home_reset",
		Value: buttonValue(t, fakeslack.Message{Blocks: listed.Blocks}, "aws_reset_home_reset")})
	h.waitEphemeral(bob, "This button is for someone else")

	// alice's own click: the command's path, so an approver decides.
	h.clickAction(fakeslack.BlockAction{UserID: alice, ViewID: listed.ID, ActionID: "aws_reset_home_reset",
		Value: buttonValue(t, fakeslack.Message{Blocks: listed.Blocks}, "aws_reset_home_reset")})
	m := h.waitApprovalMessage("alice")
	req := h.requestOf(m)
	approver := h.homeOpened(admin, req.ID)
	if !strings.Contains(string(approver.Blocks), "Waiting for your decision") {
		t.Errorf("the approver's Home does not list the waiting request: %s", approver.Blocks)
	}
	h.clickAction(fakeslack.BlockAction{UserID: admin, ViewID: approver.ID, ActionID: approveID, Value: req.Token})
	h.waitUpdate(m, "Approved by")
	h.reveal(alice)
	pw := h.waitEphemeral(alice, "Your new temporary AWS console password")
	secret := passwordOf(t, pw)
	// Refreshed after the reset, never holding the password.
	if _, err := h.slack.WaitView(h.ctx(), func(v fakeslack.View) bool {
		return v.Type == "home" && v.UserID == alice && strings.Contains(string(v.Blocks), "Last reset")
	}); err != nil {
		t.Errorf("alice's Home was not refreshed after her reset")
	}
	for _, v := range h.slack.Views() {
		if strings.Contains(string(v.Blocks), secret) {
			t.Errorf("a view holds the password")
		}
	}
}
