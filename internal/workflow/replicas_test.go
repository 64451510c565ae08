package workflow

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

const replicaTTL = 30 * time.Second

// replica makes another Workflow on ft's store, Slack and IAM, as replica
// id, and runs what its Start hands back.
func (ft *flowTest) replica(id string) *Workflow {
	ft.t.Helper()
	rep := &Replica{ID: id, Store: ft.store, TTL: replicaTTL}
	flow, err := New(Options{Config: ft.cfg, Slack: ft.slack, Resetter: ft.iam, Store: ft.store, ConsoleURL: "https://example.signin.aws.amazon.com/console",
		Logger: ft.logger(), Now: func() time.Time { return ft.now }, Replica: rep})
	if err != nil {
		ft.t.Fatal(err)
	}
	if ft.reps == nil {
		ft.reps = map[string]*Replica{}
	}
	ft.reps[id] = rep
	ft.beat(id)
	for _, job := range flow.Start(context.Background(), Identity{TeamID: team, UserID: "U0BOT00001"}) {
		job(context.Background())
	}
	return flow
}

// beat sends replica id's heartbeat at the test's now.
func (ft *flowTest) beat(ids ...string) {
	ft.t.Helper()
	for _, id := range ids {
		var err error
		if rep, ok := ft.reps[id]; ok {
			_, err = rep.Beat(context.Background(), ft.now) // the replica learns its lease too
		} else {
			_, err = ft.store.Heartbeat(context.Background(), id, ft.now, replicaTTL)
		}
		if err != nil {
			ft.t.Fatal(err)
		}
	}
}

// leftBy seeds a request in state, held by replica.
func (ft *flowTest) leftBy(replica, user, iamUser string, state request.State) string {
	ft.t.Helper()
	id := ft.seed(user, iamUser, state)
	if err := ft.store.HoldRequest(context.Background(), id, replica, ft.now); err != nil {
		ft.t.Fatal(err)
	}
	return id
}

// A reset a live replica is working on is left alone by the others, at
// their start and in their sweeps; once that replica's heartbeat is stale,
// exactly one other replica offers its owner the button, and nothing is
// reset until they press it.
func TestDeadReplicasRequestsOfferedOnce(t *testing.T) {
	ft := newFlowTest(t, nil)
	ft.beat("A")
	resetting := ft.leftBy("A", alice, "alice", request.Resetting)
	created := ft.leftBy("A", carol, "carol", request.Approved) // created, reset not begun

	b := ft.replica("B")
	c := ft.replica("C")
	b.Sweep(context.Background())
	c.Sweep(context.Background())
	if got := ft.slack.find("post", dmOf(alice), "was interrupted"); len(got) != 0 {
		t.Fatalf("offers while replica A is alive = %d; want 0", len(got))
	}

	ft.now = ft.now.Add(replicaTTL) // A is silent for a TTL: dead
	ft.beat("B", "C")
	b.Sweep(context.Background())
	c.Sweep(context.Background())
	b.Sweep(context.Background())
	ft.now = ft.now.Add(replicaTTL + time.Second) // B dies too: C takes the sweep lease
	ft.beat("C")
	c.Sweep(context.Background())

	offer := ft.one("post", dmOf(alice), "was interrupted")
	ft.one("post", dmOf(carol), "was interrupted")
	for _, id := range []string{resetting, created} {
		if r := ft.request(id); r.State != request.Approved || r.ExpiresAt.IsZero() {
			t.Errorf("request %s = %s, expires %v; want a standing offer", id, r.State, r.ExpiresAt)
		}
	}
	if n := ft.iam.resetCount(); n != 0 {
		t.Fatalf("resets before the owner's click = %d; want 0", n)
	}
	ft.flow = c
	ft.click(alice, offer, actionReveal)
	if s := ft.request(resetting).State; s != request.Delivered {
		t.Errorf("state after the owner's click = %s; want delivered", s)
	}
}

// A replica starting while another is alive does not offer again what the
// live one is resetting; two replicas starting together resume once.
func TestStartLeavesLiveReplicasWorkAlone(t *testing.T) {
	ft := newFlowTest(t, nil)
	ft.beat("A")
	ft.leftBy("A", alice, "alice", request.Resetting)
	orphan := ft.seed(carol, "carol", request.Resetting) // from a bot before replicas: no holder
	ft.replica("B")
	ft.replica("C")
	if got := ft.slack.find("post", dmOf(alice), "was interrupted"); len(got) != 0 {
		t.Errorf("offers of live replica A's reset = %d; want 0", len(got))
	}
	ft.one("post", dmOf(carol), "was interrupted")
	if r := ft.request(orphan); r.State != request.Approved {
		t.Errorf("orphan = %s; want approved (offered)", r.State)
	}
}

// Expiries due while several replicas sweep happen once.
func TestSweepsAcrossReplicasOnce(t *testing.T) {
	ft := newFlowTest(t, withApprovals)
	a := ft.replica("A")
	ft.flow = a
	id := ft.command(alice, "")
	b := ft.replica("B")
	ft.now = ft.now.Add(ft.cfg.Approval.Timeout.D() + time.Second)
	ft.beat("A", "B")
	done := make(chan struct{})
	go func() { a.Sweep(context.Background()); close(done) }()
	b.Sweep(context.Background())
	<-done
	a.Sweep(context.Background())
	if s := ft.request(id).State; s != request.Expired {
		t.Fatalf("state = %s; want expired", s)
	}
	ft.one("post", dmOf(alice), "expired")
}

// While the store does not answer, a command is answered at once and
// nothing is started; when it answers again, commands work again.
func TestStoreDownFailsClosed(t *testing.T) {
	ft := newFlowTest(t, nil)
	ft.flow.SetStoreReachable(false)
	cmd := Command{EnvelopeID: "E1", Command: "/aws-reset", UserID: alice, TeamID: team}
	id, answer := ft.flow.Preflight(cmd)
	if id != "" || !strings.Contains(answer.Text, "can't record requests right now") {
		t.Fatalf("Preflight() with the store down = %q, %q; want no request and the words saying why", id, answer.Text)
	}
	ft.flow.SetStoreReachable(true)
	ft.command(alice, "")
	if n := ft.iam.resetCount(); n != 1 {
		t.Errorf("resets after the store is back = %d; want 1", n)
	}
}

// A command a replica acked and died before working on is not left
// hanging: another replica tells its sender, once, that nothing was
// started. One it handled (here: a refusal) is not mentioned.
func TestAckedCommandsOfDeadReplicaTold(t *testing.T) {
	ft := newFlowTest(t, nil)
	a := ft.replica("A")
	a.Acked(context.Background(), []AckedCommand{{RequestID: "RLOST000001", UserID: alice}, {RequestID: "RSTRANGER01", UserID: stranger}})
	ft.flow = a
	a.HandleCommand(context.Background(), Command{EnvelopeID: "E1", Command: "/aws-reset", UserID: stranger, TeamID: team}, "RSTRANGER01")

	b, c := ft.replica("B"), ft.replica("C")
	ft.now = ft.now.Add(replicaTTL) // A is silent for a TTL: dead
	ft.beat("B", "C")
	b.Sweep(context.Background())
	ft.now = ft.now.Add(replicaTTL + time.Second) // B dies too: C takes the sweep lease
	ft.beat("C")
	c.Sweep(context.Background())

	ft.one("post", dmOf(alice), "RLOST000001) was interrupted before anything was done")
	if got := ft.slack.find("post", dmOf(stranger), "interrupted"); len(got) != 0 {
		t.Errorf("the sender of a handled command was told %d times it was interrupted; want 0", len(got))
	}
}

// A replica whose heartbeats have not reached the store for most of the
// TTL takes no request into work and calls no IAM: another replica could
// take its request for left behind. It tells the owner, and its next
// sweep (once it beats again) offers the request once; a click on a
// lapsed replica changes nothing, and one on a live replica resets.
func TestLapsedLeaseResetsNothing(t *testing.T) {
	ft := newFlowTest(t, nil)
	a := ft.replica("A")
	ft.flow = a
	ft.now = ft.now.Add(replicaTTL - replicaTTL/6 - a.replica.minLeaseToReset() + time.Second) // no heartbeat since
	id := ft.command(alice, "")
	if n := ft.iam.resetCount(); n != 0 {
		t.Fatalf("IAM resets with the lease nearly out = %d; want 0", n)
	}
	ft.one("post", dmOf(alice), "can't reach my database right now")
	if r := ft.request(id); r.State != request.Approved || !r.ExpiresAt.IsZero() {
		t.Fatalf("state = %s; want approved, not taken into work (IAM untouched, the request let go)", r.State)
	}

	ft.beat("A")
	a.Sweep(context.Background())
	a.Sweep(context.Background())
	offer := ft.one("post", dmOf(alice), "Show my new password")

	// The owner's click reaches a replica whose lease has lapsed again:
	// it does not take the request, and the offer still stands for the
	// click that reaches a live replica.
	ft.now = ft.now.Add(replicaTTL)
	ft.click(alice, offer, actionReveal)
	if r := ft.request(id); r.State != request.Approved || ft.iam.resetCount() != 0 {
		t.Fatalf("after a click on the lapsed replica: state %s, IAM resets %d; want the offer standing, 0", r.State, ft.iam.resetCount())
	}
	if got := ft.slack.find("update", dmOf(alice), "you asked for the password"); len(got) != 0 {
		t.Fatalf("the offer was marked used by a click that changed nothing:\n%s", ft.slack.dump())
	}
	ft.beat("A")
	ft.click(alice, offer, actionReveal)
	if r := ft.request(id); r.State != request.Delivered || ft.iam.resetCount() != 1 {
		t.Errorf("after the click: state %s, IAM resets %d; want delivered, 1", r.State, ft.iam.resetCount())
	}
	if got := ft.slack.find("ephemeral", dmOf(alice), "Only you can see it"); len(got) != 1 {
		t.Errorf("passwords shown = %d; want 1\n%s", len(got), ft.slack.dump())
	}
}

// A replica cut off from the store while IAM works on its reset, long
// enough for another to offer the request again, does not show the
// password it got: its owner has one offer, and one password, after the
// click.
func TestTakenOverMidResetNotShown(t *testing.T) {
	ft := newFlowTest(t, nil)
	a := ft.replica("A")
	b := ft.replica("B")
	ft.flow = a
	ft.iam.onReset = func() {
		ft.now = ft.now.Add(replicaTTL + time.Second) // A's heartbeats fail meanwhile
		ft.beat("B")
		b.Sweep(context.Background())
	}
	id := ft.command(alice, "")
	if got := ft.slack.find("ephemeral", dmOf(alice), "Only you can see it"); len(got) != 0 {
		t.Fatalf("A showed the password of a request B offered again: %d shown", len(got))
	}
	offer := ft.one("post", dmOf(alice), "Show my new password")
	if r := ft.request(id); r.State != request.Approved || r.ExpiresAt.IsZero() {
		t.Fatalf("state = %s (offer expires %v); want approved with B's offer standing", r.State, r.ExpiresAt)
	}

	ft.flow = b
	ft.click(alice, offer, actionReveal)
	if got := ft.slack.find("ephemeral", dmOf(alice), "Only you can see it"); len(got) != 1 {
		t.Errorf("passwords shown = %d; want 1 (B's)", len(got))
	}
	if r := ft.request(id); r.State != request.Delivered {
		t.Errorf("state = %s; want delivered", r.State)
	}
	// A comes back: nothing it holds is left to offer.
	ft.beat("A")
	a.Sweep(context.Background())
	if got := ft.slack.find("post", dmOf(alice), "Show my new password"); len(got) != 1 {
		t.Errorf("offers = %d; want 1", len(got))
	}
}

// The IAM call itself ends with this replica's lease: once the others
// may take the request for left behind, an answer from IAM could
// overwrite a password one of them has since shown. A reset unanswered
// by then is given up, left resetting to be offered again, and nothing is
// shown. (In a synctest bubble, the call's wait is exact.)
func TestLeaseBoundsTheIAMCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := newFlowTest(t, nil)
		ft.flow = ft.replica("A")
		ft.iam.hang = true
		began := time.Now()
		id := ft.command(alice, "")
		if waited, lease := time.Since(began), replicaTTL-replicaTTL/6; waited != lease {
			t.Errorf("the IAM call waited %v; want the lease left, %v", waited, lease)
		}
		if r := ft.request(id); r.State != request.Resetting || r.Outcome != "" {
			t.Errorf("request = %s, %q; want resetting, to be offered again", r.State, r.Outcome)
		}
		if got := ft.slack.find("ephemeral", dmOf(alice), "Only you can see it"); len(got) != 0 {
			t.Errorf("passwords shown = %d; want 0", len(got))
		}
	})
}

// A request whose password was being shown when its replica died is
// never offered again (its owner may have the password): it is ended,
// and its owner told, once, by a replica's start or sweep, and by a
// single process's restart.
func TestShownNeverOfferedAgain(t *testing.T) {
	for _, tt := range []struct {
		name string
		take func(ft *flowTest)
	}{
		{"replica start", func(ft *flowTest) { ft.replica("B") }},
		{"replica sweep", func(ft *flowTest) {
			b := ft.replica("B")
			b.Sweep(context.Background())
			b.Sweep(context.Background())
		}},
		{"restart", func(ft *flowTest) { ft.restart(nil); ft.restart(nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, nil)
			ft.beat("A")
			id := ft.leftBy("A", alice, "alice", request.Resetting)
			if _, err := ft.store.Move(context.Background(), id, []request.State{request.Resetting}, request.Resetting, ft.now,
				func(r *request.Request) { r.Outcome = string(OutcomePasswordSet) }); err != nil {
				t.Fatal(err)
			}
			ft.now = ft.now.Add(replicaTTL + time.Second) // A died
			tt.take(ft)
			if got := ft.slack.find("post", dmOf(alice), "Show my new password"); len(got) != 0 {
				t.Errorf("offers = %d; want 0", len(got))
			}
			ft.one("post", dmOf(alice), "If you saw it, sign in with it")
			r := ft.request(id)
			if r.State != request.Failed || r.Outcome != string(OutcomeInterruptedShown) {
				t.Errorf("request = %s, %s; want failed, %s", r.State, r.Outcome, OutcomeInterruptedShown)
			}
			if n := ft.iam.resetCount(); n != 0 {
				t.Errorf("IAM resets = %d; want 0", n)
			}
		})
	}
}

// Two clicks on one offer reach the same replica at once: one takes the
// request into work, the other loses the move and returns. The loser
// returning does not make the replica's sweep take the winner's request
// for let go: its owner gets the password, not a second offer.
func TestRacingClicksOnOneReplica(t *testing.T) {
	ft := newFlowTest(t, nil)
	ft.beat("A")
	id := ft.leftBy("A", alice, "alice", request.Resetting)
	ft.now = ft.now.Add(replicaTTL + time.Second) // A died
	b := ft.replica("B")
	offer := ft.one("post", dmOf(alice), "Show my new password")
	stale := ft.request(id) // approved, as both clicks read it
	ft.flow = b
	ft.iam.onReset = func() {
		if taken := b.runReset(context.Background(), stale, request.Approved, gateAgain); !taken {
			t.Error("the losing click left the request for a later try; want it lost to the winner")
		}
		b.Sweep(context.Background())
	}
	ft.click(alice, offer, actionReveal)
	if got := ft.slack.find("ephemeral", dmOf(alice), "Only you can see it"); len(got) != 1 {
		t.Errorf("passwords shown = %d; want 1\n%s", len(got), ft.slack.dump())
	}
	if got := ft.slack.find("post", dmOf(alice), "Show my new password"); len(got) != 1 {
		t.Errorf("offers = %d; want 1 (no second one)", len(got))
	}
	if r := ft.request(id); r.State != request.Delivered {
		t.Errorf("state = %s; want delivered", r.State)
	}
}
