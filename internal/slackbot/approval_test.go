package slackbot_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

const (
	approveID = "aws_reset_approve"
	denyID    = "aws_reset_deny"
	revealID  = "aws_reset_reveal"
)

// waitOffer waits for the DM that offers user the password after an
// approval.
func (h *harness) waitOffer(user string) fakeslack.Message {
	h.t.Helper()
	dm := h.slack.DMChannel(user)
	m, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
		return m.Channel == dm && strings.Contains(string(m.Blocks), revealID)
	})
	if err != nil {
		h.t.Fatalf("no password offer to %s: %s", user, h.dump())
	}
	return m
}

// reveal presses "Show my new password" as user.
func (h *harness) reveal(user string) {
	h.t.Helper()
	h.click(user, h.waitOffer(user), revealID)
}

// waitApprovalMessage waits for the approval request in the approvers'
// channel that names the IAM user.
func (h *harness) waitApprovalMessage(iamUser string) fakeslack.Message {
	h.t.Helper()
	m, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
		return m.Channel == approvalChannel && strings.Contains(m.Text, "`"+iamUser+"`")
	})
	if err != nil {
		h.t.Fatalf("no approval message for %s: %s", iamUser, h.dump())
	}
	return m
}

// buttonValue is what Slack would send back for the button: its value.
func buttonValue(t *testing.T, m fakeslack.Message, actionID string) string {
	t.Helper()
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	t.Fatalf("no button %s in %s", actionID, m.Blocks)
	return ""
}

// click sends a button click on m by user and waits for the ack.
func (h *harness) click(user string, m fakeslack.Message, actionID string) {
	h.t.Helper()
	h.clickAction(fakeslack.BlockAction{UserID: user, ChannelID: m.Channel, MessageTS: m.TS,
		ActionID: actionID, Value: buttonValue(h.t, m, actionID)})
}

func (h *harness) clickAction(a fakeslack.BlockAction) {
	h.t.Helper()
	id, err := h.slack.BlockAction(h.ctx(), a)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.slack.WaitAck(h.ctx(), id); err != nil {
		h.t.Fatal(err)
	}
}

// seedRequest records an approved self-service request, as a previous run
// would have left it.
func (h *harness) seedRequest(user, iamUser string) request.Request {
	h.t.Helper()
	now := time.Now()
	req := request.Request{ID: request.NewID(), Token: request.NewToken(), TeamID: fakeslack.TeamID,
		SlackUser: user, IAMUser: iamUser, RequestedBy: user, State: request.Approved, CreatedAt: now, UpdatedAt: now}
	if _, err := h.store.CreateRequest(context.Background(), req, 0); err != nil {
		h.t.Fatal(err)
	}
	return req
}

// requestState reads the one request of the IAM user from the store.
func (h *harness) requestState(id string) request.State {
	h.t.Helper()
	r, err := h.store.Request(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r.State
}

func auditActions(t *testing.T, h *harness) string {
	t.Helper()
	events, err := h.store.Audit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	return strings.Join(actions, " ")
}

func TestApprovalApproved(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(alice, "")
	h.waitEphemeral(alice, "needs an approver's OK")
	m := h.waitApprovalMessage("alice")
	if !strings.Contains(string(m.Blocks), "<@"+alice+">") {
		t.Errorf("approval message does not name the requester: %s", m.Blocks)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Fatalf("UpdateLoginProfile before approval: %d calls", n)
	}

	h.click(admin, m, approveID)
	offer := h.waitOffer(alice)
	if !strings.Contains(offer.Text, "<@"+admin+"> approved") {
		t.Errorf("offer = %q; want it to name the approver", offer.Text)
	}
	// Nothing is reset until alice asks: she may not be looking at Slack,
	// and an ephemeral message reaches only people who are.
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Fatalf("UpdateLoginProfile calls = %d before alice asked", n)
	}
	h.click(alice, offer, revealID)
	got := passwordOf(t, h.waitEphemeral(alice, "IAM user `alice`"))
	if p, _ := h.iam.LoginProfile("alice"); p.Password != got || !p.PasswordResetRequired {
		t.Error("delivered password is not IAM's, or reset is not required")
	}
	if o, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
		return m.Channel == offer.Channel && m.TS == offer.TS && m.Updates > 0
	}); err != nil || strings.Contains(string(o.Blocks), revealID) {
		t.Errorf("the offer still has its button after use (%v)", err)
	}
	// A second press changes nothing.
	h.clickAction(fakeslack.BlockAction{UserID: alice, ChannelID: offer.Channel, MessageTS: offer.TS, ActionID: revealID,
		BlockID: "aws_reset_reveal", Value: buttonValue(t, offer, revealID)})
	h.waitEphemeral(alice, "already delivered")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want 1", n)
	}
	updated, _ := h.slack.Message(m.Channel, m.TS)
	if updated.Updates != 1 || !strings.Contains(string(updated.Blocks), "Approved by <@"+admin+">") ||
		strings.Contains(string(updated.Blocks), approveID) {
		t.Errorf("approval message after approval = %s (updates %d); want the outcome and no buttons", updated.Blocks, updated.Updates)
	}
	h.waitAudit(request.ActionDelivered)
	if got, want := auditActions(t, h), "requested approved reset delivered"; got != want {
		t.Errorf("audit = %q; want %q", got, want)
	}
}

func TestApprovalDenied(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(alice, "")
	m := h.waitApprovalMessage("alice")
	h.click(admin2, m, denyID) // an approver through the user group
	h.waitDM(alice, "<@"+admin2+"> denied your password reset request")
	updated, _ := h.slack.Message(m.Channel, m.TS)
	if !strings.Contains(string(updated.Blocks), "Denied by <@"+admin2+">") || strings.Contains(string(updated.Blocks), denyID) {
		t.Errorf("approval message after denial = %s", updated.Blocks)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("UpdateLoginProfile calls = %d; want 0", n)
	}
	if got, want := auditActions(t, h), "requested denied"; got != want {
		t.Errorf("audit = %q; want %q", got, want)
	}
}

func TestApprovalClicksThatDoNotCount(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(admin, "") // an approver asks for their own password
	m := h.waitApprovalMessage("adminuser")

	h.click(bob, m, approveID)
	h.waitEphemeral(bob, "Only approvers can decide")
	h.click(admin, m, approveID)
	h.waitEphemeral(admin, "can't decide on a request for your own password")
	h.click(guest, m, approveID)
	h.waitEphemeral(guest, "not allowed to decide")

	value := buttonValue(t, m, approveID)
	forged := []fakeslack.BlockAction{
		{UserID: admin2, ChannelID: m.Channel, MessageTS: m.TS, ActionID: approveID, Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{UserID: admin2, ChannelID: m.Channel, MessageTS: m.TS, ActionID: "approve_everything", BlockID: "aws_reset_decision", Value: value},
		{UserID: admin2, ChannelID: m.Channel, MessageTS: m.TS, ActionID: approveID, Value: value, TeamID: "T0OTHER001"},
		{UserID: admin2, ChannelID: m.Channel, MessageTS: "1700000000.000001", ActionID: approveID, BlockID: "aws_reset_decision", Value: value},
	}
	for _, a := range forged {
		h.clickAction(a)
	}
	h.waitEphemeral(admin2, "out of date")

	// None of that decided anything: the request still waits, and a real
	// approver's click still works.
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Fatalf("UpdateLoginProfile calls = %d; want 0", n)
	}
	h.click(admin2, m, approveID)
	h.reveal(admin)
	h.waitEphemeral(admin, "IAM user `adminuser`")
}

func TestApprovalExactlyOnce(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(alice, "")
	m := h.waitApprovalMessage("alice")
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			who := admin
			if i%2 == 1 {
				who = admin2
			}
			h.click(who, m, []string{approveID, denyID}[i%3/2])
		})
	}
	wg.Wait()
	// Exactly one decision; every other click was told it came too late.
	ctx := h.ctx()
	for {
		late := 0
		for _, msg := range h.slack.Messages() {
			if msg.Ephemeral && strings.Contains(msg.Text, "This request is already") {
				late++
			}
		}
		if late == 9 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d late clicks answered; want 9: %s", late, h.dump())
		case <-time.After(5 * time.Millisecond):
		}
	}
	decided := 0
	for _, a := range strings.Fields(auditActions(t, h)) {
		if a == request.ActionApproved || a == request.ActionDenied {
			decided++
		}
	}
	if decided != 1 {
		t.Errorf("decisions in the audit trail = %d; want 1", decided)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n > 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want at most 1", n)
	}
}

func TestApprovalExpires(t *testing.T) {
	h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Approval.Timeout = config.Duration(50 * time.Millisecond) }))
	h.start()
	h.command(alice, "")
	m := h.waitApprovalMessage("alice")
	h.waitDM(alice, "it expired")
	updated, _ := h.slack.Message(m.Channel, m.TS)
	if !strings.Contains(string(updated.Blocks), "Expired") || strings.Contains(string(updated.Blocks), approveID) {
		t.Errorf("approval message after expiry = %s", updated.Blocks)
	}
	// A click on the expired request changes nothing.
	h.clickAction(fakeslack.BlockAction{UserID: admin, ChannelID: m.Channel, MessageTS: m.TS, ActionID: approveID,
		BlockID: "aws_reset_decision", Value: buttonValue(t, m, approveID)})
	h.waitEphemeral(admin, "already expired")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("UpdateLoginProfile calls = %d; want 0", n)
	}
	if got, want := auditActions(t, h), "requested expired"; got != want {
		t.Errorf("audit = %q; want %q", got, want)
	}
}

func TestApprovalSurvivesRestart(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(alice, "")
	m := h.waitApprovalMessage("alice")
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.start() // a new bot on the same store file
	h.click(admin, m, approveID)
	offer := h.waitOffer(alice)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.start() // and again: the offer survives too
	h.click(alice, offer, revealID)
	got := passwordOf(t, h.waitEphemeral(alice, "IAM user `alice`"))
	if p, _ := h.iam.LoginProfile("alice"); p.Password != got {
		t.Error("delivered password is not IAM's")
	}
}

// After a restart nothing is reset on the bot's own: the owner may be away,
// and may have chosen a password since. They get the button again, in a
// lasting DM, and the reset happens on their click.
func TestResumeLeftResetting(t *testing.T) {
	h := newHarness(t)
	h.start()
	// A previous run crashed after the IAM call and before the DM: the
	// request is left in Resetting.
	req := h.seedRequest(alice, "alice")
	if _, err := h.store.Move(context.Background(), req.ID, []request.State{request.Approved}, request.Resetting, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.expectReofferThenReveal(req.ID, 0)
}

// expectReofferThenReveal checks that a request a previous run left is
// offered to alice again, reset on nobody's say-so but hers, and delivered
// on her click. before is the UpdateLoginProfile count the previous run left.
func (h *harness) expectReofferThenReveal(id string, before int) {
	h.t.Helper()
	offer := h.waitOffer(alice)
	if !strings.Contains(offer.Text, "was interrupted") {
		h.t.Errorf("offer = %q; want it to say the reset was interrupted", offer.Text)
	}
	h.waitAudit(request.ActionOffered)
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != before {
		h.t.Errorf("UpdateLoginProfile calls before the owner's click = %d; want %d", n, before)
	}
	if s := h.requestState(id); s != request.Approved {
		h.t.Errorf("state = %s; want approved (offered)", s)
	}
	h.click(alice, offer, revealID)
	got := passwordOf(h.t, h.waitEphemeral(alice, "IAM user `alice`"))
	if p, _ := h.iam.LoginProfile("alice"); p.Password != got {
		h.t.Error("delivered password is not IAM's")
	}
	h.waitAudit(request.ActionDelivered)
	if s := h.requestState(id); s != request.Delivered {
		h.t.Errorf("state = %s; want delivered", s)
	}
}

func TestAdminInitiated(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(admin, "<@"+alice+"|alice>")
	h.waitEphemeral(admin, "a button to reset the console password of IAM user `alice`")
	offer := h.waitOffer(alice)
	if !strings.Contains(offer.Text, "<@"+admin+"> started a reset") {
		t.Errorf("offer = %q; want it to name the approver who started it", offer.Text)
	}
	// Only alice can press her button.
	h.click(admin, offer, revealID)
	h.waitEphemeral(admin, "This button is for someone else")
	h.click(alice, offer, revealID)
	msg := h.waitEphemeral(alice, "IAM user `alice`")
	got := passwordOf(t, msg)
	if p, _ := h.iam.LoginProfile("alice"); p.Password != got {
		t.Error("delivered password is not IAM's")
	}
	h.waitDM(alice, "at the request of <@"+admin+">")
	for _, m := range h.slack.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), got) && (m.User != alice || m.Channel != h.slack.DMChannel(alice)) {
			t.Errorf("the password also went to %s/%s", m.Channel, m.User)
		}
	}

	// Not an approver: refused, nothing reset.
	h.command(carol, "<@"+alice+">")
	h.waitEphemeral(carol, "Only approvers")
	// An unlisted target: refused.
	h.command(admin, "<@"+bob+">")
	h.waitEphemeral(admin, "I can't reset an AWS password for <@"+bob+">")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want 1", n)
	}
}

func TestApprovalOverridesAndActiveRequest(t *testing.T) {
	no := false
	h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Users[0].Approval = &no }))
	h.start()
	h.command(alice, "") // alice needs no approval
	h.waitEphemeral(alice, "IAM user `alice`")

	h.command(admin, "") // the others do; a second request while one waits is refused
	h.waitApprovalMessage("adminuser")
	h.command(admin, "")
	h.waitEphemeral(admin, "You already have a reset request in progress")
	if n := len(h.slack.Calls("chat.postMessage")); n < 1 {
		t.Fatal("no approval message")
	}
	count := 0
	for _, m := range h.slack.Messages() {
		if m.Channel == approvalChannel {
			count++
		}
	}
	if count != 1 {
		t.Errorf("approval messages = %d; want 1", count)
	}
}

func TestApprovedOfferExpires(t *testing.T) {
	h := newHarness(t, withApproval())
	h.start()
	h.command(alice, "")
	h.click(admin, h.waitApprovalMessage("alice"), approveID)
	offer := h.waitOffer(alice)
	h.clock.Advance(31 * time.Minute) // past approval.timeout
	h.waitDM(alice, "expired before you asked for the password")
	h.click(alice, offer, revealID)
	h.waitEphemeral(alice, "already expired")
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("UpdateLoginProfile calls = %d; want 0", n)
	}
}

func TestResumeInterruptedApproved(t *testing.T) {
	h := newHarness(t)
	h.start()
	// A self-service request recorded as approved, and the run stopped
	// before the reset began.
	req := h.seedRequest(alice, "alice")
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.expectReofferThenReveal(req.ID, 0)
}

func TestAuditChannel(t *testing.T) {
	const auditChannel = "C0AUDIT001"
	h := newHarness(t, withApproval(), withConfig(func(c *config.Config) { c.Audit.Channel = auditChannel }))
	h.slack.AddChannel(auditChannel, fakeslack.BotUserID)
	h.start()
	h.command(alice, "")
	h.click(admin, h.waitApprovalMessage("alice"), denyID)
	h.command(admin, "<@"+carol+">") // carol has no console password: fails
	h.reveal(carol)
	for _, want := range []string{"denied by <@" + admin + ">", "failed: no_login_profile"} {
		if _, err := h.slack.WaitMessage(h.ctx(), func(m fakeslack.Message) bool {
			return m.Channel == auditChannel && strings.Contains(m.Text, want)
		}); err != nil {
			t.Errorf("no audit channel post containing %q: %s", want, h.dump())
		}
	}
}
