package slackbot_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// faultRunSize is how many commands TestFaultRun sends: FAULTRUN_N, or a
// short run for CI. FAULTRUN_SEED picks the faults (default 1), so a
// failure is reproduced by the seed it prints.
func faultRunSize(t *testing.T) (n int, seed uint64) {
	n, seed = 240, 1
	if s := os.Getenv("FAULTRUN_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("FAULTRUN_N=%q: want a positive count", s)
		}
		n = v
	}
	if s := os.Getenv("FAULTRUN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FAULTRUN_SEED=%q: want a number", s)
		}
		seed = v
	}
	return n, seed
}

// faultStats counts what the run did, for the log and docs/benchmarks.md.
type faultStats struct {
	commands, redelivered, reveals, approvals, restarts, abrupt int
	slack5xx, slack429, drops, iamFaults, latencies, sweepRaces int
}

// TestFaultRun drives the real bot through rounds of commands while
// Slack and IAM fail in every way the bot must ride out, and the bot is
// stopped (gracefully or abruptly) and restarted between rounds; then it
// checks invariants, not counts: every request ended or stands as an offer
// to its owner; every password IAM took was shown to its owner or followed
// by a lasting "interrupted" note; no person's password was set more often
// than they asked; an audit row for every request's start and end; and no
// secret anywhere (the harness scans the logs and the store file).
//
// Long mode: FAULTRUN_N=10000 go test -run TestFaultRun -timeout 60m ./internal/slackbot
func TestFaultRun(t *testing.T) {
	n, seed := faultRunSize(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const people = 60
	h := newHarness(t, withManyUsers(people), withApproval(), withConfig(func(c *config.Config) {
		c.Reset.Concurrency = 8
		c.Reset.Deadline = config.Duration(20 * time.Second)
		c.Approval.Timeout = config.Duration(time.Hour)
		// A fifth of the people need an approver; the rest serve themselves.
		for i := range c.Users {
			if strings.HasPrefix(c.Users[i].SlackUser, "U0MANY") {
				need := i%5 == 0
				c.Users[i].Approval = &need
			}
		}
	}))
	graceful := func(o *slackbot.Options) {
		o.ShutdownTimeout = 15 * time.Second
		o.SlackLimits = map[string]int{} // every method unknown: paced at the fallback tier only after a 429
		for m := range map[string]bool{"users.info": true, "conversations.open": true, "chat.postEphemeral": true,
			"chat.postMessage": true, "chat.update": true, "usergroups.users.list": true, "auth.test": true, "apps.connections.open": true} {
			o.SlackLimits[m] = 600000 // a throttled method recovers at once: the run tests correctness, not Slack's tiers
		}
	}
	h.edit = graceful
	h.start()
	var st faultStats
	asked := map[string]int{} // per person: commands sent and reveal clicks made
	seen := map[string]bool{} // messages already decided on or pressed, by timestamp
	t.Cleanup(func() {
		t.Logf("fault run seed %d: %+v", seed, st)
	})

	for sent := 0; sent < n; {
		batch := min(20, n-sent)
		h.injectFaults(rng, &st)
		var envs []fakeslack.Envelope
		for range batch {
			i := rng.IntN(people)
			user, _ := manyUser(i)
			payload := map[string]any{"command": "/aws-reset", "text": "", "user_id": user, "team_id": fakeslack.TeamID,
				"channel_id": h.slack.DMChannel(user), "user_name": user}
			envs = append(envs, fakeslack.Envelope{Type: "slash_commands", EnvelopeID: fmt.Sprintf("env-fault-%d", sent),
				Payload: payload, AcceptsResponsePayload: true})
			asked[user]++
			st.commands++
			sent++
		}
		for _, env := range envs {
			if err := h.slack.Send(h.ctx(), env); err != nil {
				t.Fatalf("seed %d: send: %v", seed, err)
			}
			if rng.IntN(10) == 0 { // Slack sends it again, as after a slow ack
				env.RetryAttempt, env.RetryReason = 1, "timeout"
				if err := h.slack.Send(h.ctx(), env); err != nil {
					t.Fatalf("seed %d: redeliver: %v", seed, err)
				}
				st.redelivered++
			}
		}
		h.ackedOrRedelivered(t, envs, &st)
		h.decideSome(rng, &st, seen)
		// End the round: usually a clean stop, sometimes an abrupt one that
		// cuts the work in flight; then start again.
		if rng.IntN(3) == 0 {
			h.edit = func(o *slackbot.Options) { graceful(o); o.ShutdownTimeout = time.Millisecond }
			st.abrupt++
		}
		if err := h.stop(); err != nil {
			t.Fatalf("seed %d: Run() = %v", seed, err)
		}
		h.clearFaults()
		h.edit = graceful
		h.start()
		st.restarts++
		h.revealSome(rng, asked, &st, seen)
	}
	// Let the last round finish, and one more start offer what it cut.
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.clearFaults()
	h.start()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.checkFaultInvariants(t, seed, asked)
}

// ackedOrRedelivered waits for each envelope's ack and, as Slack does,
// sends again (a redelivery) any the bot did not ack in time: one sent on
// a connection that was dropping is lost otherwise.
func (h *harness) ackedOrRedelivered(t *testing.T, envs []fakeslack.Envelope, st *faultStats) {
	t.Helper()
	for _, env := range envs {
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(h.ctx(), 2*time.Second)
			_, err := h.slack.WaitAck(ctx, env.EnvelopeID)
			cancel()
			if err == nil {
				break
			}
			if attempt == 4 {
				t.Fatalf("envelope %s never acked after %d deliveries", env.EnvelopeID, attempt)
			}
			env.RetryAttempt, env.RetryReason = attempt, "timeout"
			if err := h.slack.Send(h.ctx(), env); err != nil {
				t.Fatal(err)
			}
			st.redelivered++
		}
	}
}

// injectFaults queues a random mix of Slack and IAM failures for the round.
func (h *harness) injectFaults(rng *rand.Rand, st *faultStats) {
	slackMethods := []string{"users.info", "conversations.open", "chat.postEphemeral", "chat.postMessage", "chat.update"}
	for range rng.IntN(4) {
		h.slack.FailNext(slackMethods[rng.IntN(len(slackMethods))], 1+rng.IntN(2), fakeslack.Fault{Status: http.StatusServiceUnavailable})
		st.slack5xx++
	}
	if rng.IntN(8) == 0 {
		h.slack.FailNext(slackMethods[rng.IntN(len(slackMethods))], 1, fakeslack.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second})
		st.slack429++
	}
	if rng.IntN(5) == 0 {
		h.slack.DropConnection()
		st.drops++
	}
	iamCodes := []string{"Throttling", "ServiceFailure", "ServiceUnavailable", "EntityTemporarilyUnmodifiable", "network", "network-after"}
	for range rng.IntN(4) {
		h.iam.FailNext("UpdateLoginProfile", 1, iamCodes[rng.IntN(len(iamCodes))])
		st.iamFaults++
	}
	if rng.IntN(3) == 0 {
		h.iam.SetLatency(time.Duration(rng.IntN(20)) * time.Millisecond)
		st.latencies++
	}
}

// clearFaults ends the round's faults that no call took.
func (h *harness) clearFaults() {
	for _, m := range []string{"users.info", "conversations.open", "chat.postEphemeral", "chat.postMessage", "chat.update"} {
		h.slack.FailNext(m, 0, fakeslack.Fault{})
	}
	h.iam.FailNext("UpdateLoginProfile", 0, "")
	h.iam.SetLatency(0)
}

// decideSome approves the waiting requests posted so far; now and then the
// clock jumps past the approval timeout first, so the click races the
// expiry sweeper.
func (h *harness) decideSome(rng *rand.Rand, st *faultStats, done map[string]bool) {
	for _, m := range h.slack.Messages() {
		if done[m.TS] || m.Channel != approvalChannel || m.Updates > 0 || !strings.Contains(string(m.Blocks), approveID) {
			continue
		}
		done[m.TS] = true
		if rng.IntN(6) == 0 {
			h.clock.Advance(time.Hour)
			st.sweepRaces++
		}
		h.click(admin, m, approveID)
		st.approvals++
	}
}

// revealSome has owners press "Show my new password" on offers not yet
// used, counting each press as the owner asking.
func (h *harness) revealSome(rng *rand.Rand, asked map[string]int, st *faultStats, done map[string]bool) {
	for _, m := range h.slack.Messages() {
		if done[m.TS] || m.Ephemeral || m.Updates > 0 || !strings.HasPrefix(m.Channel, "D") || !strings.Contains(string(m.Blocks), revealID) {
			continue
		}
		done[m.TS] = true // pressed now, or the owner stays away from this one
		if rng.IntN(2) == 0 {
			continue // this owner is away
		}
		user := "U" + strings.TrimPrefix(m.Channel, "D")
		h.click(user, m, revealID)
		asked[user]++
		st.reveals++
	}
}

// checkFaultInvariants holds the run to what must be true whatever failed.
func (h *harness) checkFaultInvariants(t *testing.T, seed uint64, asked map[string]int) {
	t.Helper()
	ctx := h.ctx()
	st, err := store.Open(ctx, h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs := h.slack.Messages()

	// Every request ended, or stands as an offer waiting for its owner.
	var all []request.Request
	for _, s := range []request.State{request.Pending, request.Approved, request.Resetting, request.Delivered,
		request.Failed, request.Denied, request.Expired} {
		rs, err := st.RequestsInState(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rs...)
	}
	if len(all) == 0 {
		t.Fatalf("seed %d: no requests were recorded", seed)
	}
	for _, r := range all {
		switch {
		case r.State.Terminal():
		case r.State == request.Approved && !r.ExpiresAt.IsZero(): // a standing offer
		case r.State == request.Pending: // waiting for an approver
		default:
			t.Errorf("seed %d: request %s left %s", seed, r.ID, r.State)
		}
	}

	// Every password IAM took and said so reached its owner, or was
	// followed by a lasting note that the reset was interrupted (with the
	// button). (A dropped answer leaves the bot, like any client, not
	// knowing; the person is told the reset failed.)
	byUser := map[string][]fakeslack.Message{} // each person's ephemerals and DM
	for _, m := range msgs {
		switch {
		case m.Ephemeral:
			byUser[m.User] = append(byUser[m.User], m)
		case strings.HasPrefix(m.Channel, "D"):
			u := "U" + strings.TrimPrefix(m.Channel, "D")
			byUser[u] = append(byUser[u], m)
		}
	}
	for _, c := range h.iam.Calls("UpdateLoginProfile") {
		if c.Status != http.StatusOK {
			continue
		}
		user, pw := c.Params.Get("UserName"), c.Params.Get("Password")
		slackID := "U0MANY" + strings.TrimPrefix(user, "user")
		if pw == "" || !strings.HasPrefix(user, "user") {
			continue // an unused password overwritten by the sweeper, or another person's
		}
		ok := false
		for _, m := range byUser[slackID] {
			switch {
			case m.Ephemeral && m.User == slackID && strings.Contains(string(m.Blocks), pw):
				ok = true
			case !m.Ephemeral && m.Channel == h.slack.DMChannel(slackID) && strings.Contains(m.Text, "was interrupted") &&
				!tsTime(m.TS).Before(c.At):
				ok = true
			}
		}
		if !ok {
			t.Errorf("seed %d: IAM set a password for %s at %s that its owner was neither shown nor told of", seed, user, c.At)
		}
	}

	// Nobody's password was set more often than they asked for one (a
	// retried call carries the same password: one setting).
	set := map[string]map[string]bool{}
	for _, c := range h.iam.Calls("UpdateLoginProfile") {
		if c.Status == http.StatusOK || c.Code == "network-after" {
			user := "U0MANY" + strings.TrimPrefix(c.Params.Get("UserName"), "user")
			if set[user] == nil {
				set[user] = map[string]bool{}
			}
			set[user][c.Params.Get("Password")] = true
		}
	}
	for user, pws := range set {
		if n := len(pws); n > asked[user] {
			t.Errorf("seed %d: %s's password was set %d times; they asked %d times", seed, user, n, asked[user])
		}
	}

	// An audit row for the start and the end of every request.
	events, err := st.Audit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]map[string]bool{}
	for _, e := range events {
		if actions[e.RequestID] == nil {
			actions[e.RequestID] = map[string]bool{}
		}
		actions[e.RequestID][e.Action] = true
	}
	end := map[request.State]string{request.Delivered: request.ActionDelivered, request.Failed: request.ActionFailed,
		request.Expired: request.ActionExpired, request.Denied: request.ActionDenied}
	for _, r := range all {
		if !actions[r.ID][request.ActionRequested] {
			t.Errorf("seed %d: request %s has no %q audit row", seed, r.ID, request.ActionRequested)
		}
		if a, ok := end[r.State]; ok && !actions[r.ID][a] {
			t.Errorf("seed %d: request %s is %s with no %q audit row", seed, r.ID, r.State, a)
		}
	}
}

// tsTime reads a Slack message timestamp ("1700000000.000100").
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000)
}
