package workflow

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

const replicaTTL = 30 * time.Second

// replica makes another Workflow on ft's store, Slack and IAM, as replica
// id, and runs what its Start hands back.
func (ft *flowTest) replica(id string) *Workflow {
	ft.t.Helper()
	flow, err := New(Options{Config: ft.cfg, Slack: ft.slack, Resetter: ft.iam, Store: ft.store, ConsoleURL: "https://example.signin.aws.amazon.com/console",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return ft.now },
		Replica: &Replica{ID: id, Store: ft.store, TTL: replicaTTL}})
	if err != nil {
		ft.t.Fatal(err)
	}
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
		if _, err := ft.store.Heartbeat(context.Background(), id, ft.now, replicaTTL); err != nil {
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
