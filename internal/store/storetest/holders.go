package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// testLeftBehind: a request being worked on is left behind exactly when
// no live replica holds it.
func testLeftBehind(t *testing.T, s Store) {
	ctx := t.Context()
	const ttl = 30 * time.Second
	now := at(time.Hour)
	beat := func(id string, when time.Time) {
		t.Helper()
		if _, err := s.Heartbeat(ctx, id, when, ttl); err != nil {
			t.Fatalf("Heartbeat(%s) = %v", id, err)
		}
	}
	hold := func(r request.Request, replica string) request.Request {
		t.Helper()
		if err := s.HoldRequest(ctx, r.ID, replica, now.Add(-time.Minute)); err != nil {
			t.Fatalf("HoldRequest(%s, %s) = %v", r.ID, replica, err)
		}
		return r
	}
	beat("dead", now.Add(-ttl)) // silent for exactly ttl: gone
	beat("live", now.Add(-time.Second))

	created := at(0)
	// selfService is a request that needs no approval: approved from the
	// start, with no offer standing.
	selfService := func(user string) request.Request {
		r := newRequest(user, request.Approved, created)
		r.ExpiresAt = time.Time{}
		return r
	}
	resettingLive := hold(mustMove(t, s, mustCreate(t, s, selfService("U1")), created, request.Resetting), "live")
	resettingDead := hold(mustMove(t, s, mustCreate(t, s, selfService("U2")), created, request.Resetting), "dead")
	freshDead := hold(mustCreate(t, s, selfService("U3")), "dead") // created, not yet reset
	noHolder := mustMove(t, s, mustCreate(t, s, selfService("U4")), created, request.Resetting)
	pendingDead := hold(mustCreate(t, s, newRequest("U5", request.Pending, created)), "dead")
	offer := newRequest("U6", request.Approved, created)
	offer.ExpiresAt = now.Add(time.Hour) // a standing offer waits for its owner
	hold(mustCreate(t, s, offer), "dead")
	// Taken over: the dead replica created it, a live one is resetting it.
	takenOver := hold(mustMove(t, s, hold(mustCreate(t, s, selfService("U7")), "dead"),
		created, request.Resetting), "live")
	_, _, _ = resettingLive, pendingDead, takenOver

	got, err := s.LeftBehind(ctx, now, ttl)
	if err != nil {
		t.Fatalf("LeftBehind() = %v; want nil", err)
	}
	want := []string{resettingDead.ID, freshDead.ID, noHolder.ID}
	slices.Sort(want)
	gotIDs := ids(got)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("LeftBehind() = %v; want %v", gotIDs, want)
	}

	// A replica that stops says so, and what it held is left behind at once.
	if err := s.ForgetReplica(ctx, "live"); err != nil {
		t.Fatalf("ForgetReplica() = %v", err)
	}
	got, err = s.LeftBehind(ctx, now, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got); n != 5 {
		t.Errorf("LeftBehind() after ForgetReplica(live) = %v; want 5 requests", ids(got))
	}
	// Dropping the holders of finished requests changes nothing in work,
	// and keeps the holder of a request about to be created.
	mustMove(t, s, resettingLive, now, request.Delivered)
	beat("live", now)
	next := selfService("U8")
	if err := s.HoldRequest(ctx, next.ID, "live", now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetFinished(ctx, now.Add(-3*time.Hour)); err != nil {
		t.Fatalf("ForgetFinished() = %v", err)
	}
	mustCreate(t, s, next) // created after the sweep: its holder must still be there
	got, err = s.LeftBehind(ctx, now, ttl)
	if err != nil {
		t.Fatal(err)
	}
	gotIDs = ids(got)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("LeftBehind() after ForgetFinished() = %v; want %v (the live replica's new request still held)", gotIDs, want)
	}
	if _, err := s.LeftBehind(ctx, now, 0); err == nil {
		t.Error("LeftBehind(ttl 0) = nil error; want one")
	}
	if err := s.HoldRequest(ctx, "", "live", now); err == nil {
		t.Error("HoldRequest(no id) = nil; want an error")
	}
}

// testAbandoned: a command acked by a replica that died is abandoned
// unless it was handled or its request created, and is claimed once.
func testAbandoned(t *testing.T, s Store) {
	ctx := t.Context()
	const ttl = 30 * time.Second
	now := at(time.Hour)
	for id, seen := range map[string]time.Time{"dead": now.Add(-ttl), "live": now} {
		if _, err := s.Heartbeat(ctx, id, seen, ttl); err != nil {
			t.Fatal(err)
		}
	}
	created := newRequest("U2", request.Approved, at(0))
	handledEarly := request.NewID() // handled before its HoldAcked landed
	if err := s.ReleaseCommand(ctx, handledEarly, "dead", now); err != nil {
		t.Fatal(err)
	}
	acked := func(replica string, ids ...string) {
		t.Helper()
		var cmds []store.Acked
		for _, id := range ids {
			cmds = append(cmds, store.Acked{RequestID: id, SlackUser: "U-" + id})
		}
		if err := s.HoldAcked(ctx, replica, now.Add(-time.Minute), cmds); err != nil {
			t.Fatalf("HoldAcked() = %v", err)
		}
	}
	lost, handled, livesOn := request.NewID(), request.NewID(), request.NewID()
	acked("dead", lost, handled, created.ID, handledEarly)
	acked("live", livesOn)
	// Two the dead replica recorded and never acked: Slack sent their
	// envelopes again, to a live replica, which recorded one and created
	// the other's request.
	again, againCreated := request.NewID(), newRequest("U3", request.Approved, at(0))
	if err := s.HoldAcked(ctx, "dead", now.Add(-time.Minute), []store.Acked{
		{RequestID: again, SlackUser: "U-again", EnvelopeID: "env-again"},
		{RequestID: request.NewID(), SlackUser: "U3", EnvelopeID: againCreated.EnvelopeID},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.HoldAcked(ctx, "live", now, []store.Acked{{RequestID: request.NewID(), SlackUser: "U-again", EnvelopeID: "env-again"}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, againCreated)
	if err := s.ReleaseCommand(ctx, handled, "dead", now); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, created)

	got, err := s.Abandoned(ctx, now, ttl)
	if err != nil {
		t.Fatalf("Abandoned() = %v", err)
	}
	if len(got) != 1 || got[0].RequestID != lost || got[0].SlackUser != "U-"+lost {
		t.Fatalf("Abandoned() = %+v; want only %s, from U-%s", got, lost, lost)
	}
	won := make([]bool, 4)
	for _, err := range concurrently(len(won), func(i int) error {
		var err error
		won[i], err = s.ClaimAbandoned(ctx, lost)
		return err
	}) {
		if err != nil {
			t.Fatalf("ClaimAbandoned() = %v", err)
		}
	}
	if n := len(slices.DeleteFunc(won, func(b bool) bool { return !b })); n != 1 {
		t.Errorf("ClaimAbandoned() by 4 at once: %d won; want 1", n)
	}
	if ok, err := s.ClaimAbandoned(ctx, lost); err != nil || ok {
		t.Errorf("ClaimAbandoned(again) = %v, %v; want false", ok, err)
	}
	if got, err := s.Abandoned(ctx, now, ttl); err != nil || len(got) != 0 {
		t.Errorf("Abandoned() after the claim = %+v, %v; want none", got, err)
	}
}
