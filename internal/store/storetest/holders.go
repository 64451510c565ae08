package storetest

import (
	"errors"
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

// testMoveHeld: a replica's move of a request it works on is made only
// while it still holds the request, even when another replica has taken
// the request over and brought it back to the same state (A resetting,
// offered again, B resetting).
func testMoveHeld(t *testing.T, s Store) {
	ctx := t.Context()
	fresh := newRequest("UHELD", request.Approved, at(0))
	fresh.ExpiresAt = time.Time{}
	r := mustCreate(t, s, fresh)
	hold := func(replica string) {
		t.Helper()
		if err := s.HoldRequest(ctx, r.ID, replica, at(time.Minute)); err != nil {
			t.Fatalf("HoldRequest(%s) = %v", replica, err)
		}
	}
	resetting := []request.State{request.Resetting}
	hold("A")
	mustMove(t, s, r, at(time.Minute), request.Resetting)
	if _, err := s.MoveHeld(ctx, r.ID, "A", resetting, request.Resetting, at(2*time.Minute), nil, nil); err != nil {
		t.Fatalf("MoveHeld(holder A) = %v; want the move made", err)
	}

	// A goes silent; the request is offered again, and B takes it up.
	if _, err := s.Move(ctx, r.ID, resetting, request.Approved, at(3*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveHeld(ctx, r.ID, "A", resetting, request.Delivered, at(4*time.Minute), nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("MoveHeld(A, after the offer) = %v; want ErrConflict", err)
	}
	hold("B")
	mustMove(t, s, mustGet(t, s, r.ID), at(5*time.Minute), request.Resetting)
	called := false
	got, err := s.MoveHeld(ctx, r.ID, "A", resetting, request.Delivered, at(6*time.Minute), nil,
		func(*request.Request) { called = true })
	if !errors.Is(err, store.ErrConflict) || called || got.State != request.Resetting {
		t.Fatalf("MoveHeld(A, while B resets) = %v, %v, update called %v; want ErrConflict, the request as B left it, no update",
			got.State, err, called)
	}
	if got := mustGet(t, s, r.ID); got.State != request.Resetting {
		t.Fatalf("after A's refused move the request is %s; want resetting, B's", got.State)
	}
	if _, err := s.MoveHeld(ctx, r.ID, "B", resetting, request.Delivered, at(7*time.Minute), nil, nil); err != nil {
		t.Fatalf("MoveHeld(holder B) = %v; want the move made", err)
	}
	if _, err := s.MoveHeld(ctx, r.ID, "", resetting, request.Delivered, at(7*time.Minute), nil, nil); err == nil {
		t.Error("MoveHeld(no replica) = nil; want an error")
	}
	noHolder := mustMove(t, s, mustCreate(t, s, func() request.Request {
		r := newRequest("UNOHOLDER", request.Approved, at(0))
		r.ExpiresAt = time.Time{}
		return r
	}()), at(time.Minute), request.Resetting)
	if _, err := s.MoveHeld(ctx, noHolder.ID, "A", resetting, request.Failed, at(2*time.Minute), nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("MoveHeld(no holder recorded) = %v; want ErrConflict", err)
	}
}

// testHeldBy: a replica's requests in work, and only those.
func testHeldBy(t *testing.T, s Store) {
	ctx := t.Context()
	selfService := func(user string) request.Request {
		r := newRequest(user, request.Approved, at(0))
		r.ExpiresAt = time.Time{}
		return r
	}
	hold := func(r request.Request, replica string) request.Request {
		t.Helper()
		if err := s.HoldRequest(ctx, r.ID, replica, at(time.Minute)); err != nil {
			t.Fatalf("HoldRequest(%s, %s) = %v", r.ID, replica, err)
		}
		return r
	}
	resetting := hold(mustMove(t, s, mustCreate(t, s, selfService("U1")), at(time.Minute), request.Resetting), "A")
	created := hold(mustCreate(t, s, selfService("U2")), "A")
	hold(mustCreate(t, s, newRequest("U3", request.Pending, at(0))), "A") // waits for an approver, not A
	hold(mustMove(t, s, mustCreate(t, s, selfService("U4")), at(time.Minute), request.Resetting), "B")
	done := hold(mustMove(t, s, mustCreate(t, s, selfService("U5")), at(time.Minute), request.Resetting), "A")
	mustMove(t, s, done, at(2*time.Minute), request.Delivered)

	got, err := s.HeldBy(ctx, "A")
	if err != nil {
		t.Fatalf("HeldBy(A) = %v", err)
	}
	want := []string{resetting.ID, created.ID}
	slices.Sort(want)
	if gotIDs := ids(got); !slices.Equal(gotIDs, want) {
		t.Errorf("HeldBy(A) = %v; want %v", gotIDs, want)
	}
	if got, err := s.HeldBy(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("HeldBy(nobody) = %v, %v; want none", got, err)
	}
}

// testMoveAndHold: of two replicas racing to take a request into work,
// the one whose move wins is its holder; the loser changes nothing.
func testMoveAndHold(t *testing.T, s Store) {
	ctx := t.Context()
	fresh := newRequest("UTAKE", request.Approved, at(0))
	r := mustCreate(t, s, fresh)
	if err := s.HoldRequest(ctx, r.ID, "creator", at(0)); err != nil {
		t.Fatal(err)
	}
	approved := []request.State{request.Approved}
	if _, err := s.MoveAndHold(ctx, r.ID, "A", approved, request.Resetting, at(time.Minute), nil); err != nil {
		t.Fatalf("MoveAndHold(A) = %v; want the move made", err)
	}
	if _, err := s.MoveAndHold(ctx, r.ID, "B", approved, request.Resetting, at(time.Minute), nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("MoveAndHold(B, second) = %v; want ErrConflict", err)
	}
	if got, err := s.HeldBy(ctx, "A"); err != nil || len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("HeldBy(A) = %v, %v; want the request", ids(got), err)
	}
	if got, err := s.HeldBy(ctx, "B"); err != nil || len(got) != 0 {
		t.Errorf("HeldBy(B, who lost) = %v, %v; want none", ids(got), err)
	}
	if _, err := s.MoveHeld(ctx, r.ID, "A", []request.State{request.Resetting}, request.Delivered, at(2*time.Minute), nil, nil); err != nil {
		t.Errorf("MoveHeld(A, the winner) = %v; want the move made", err)
	}
	if _, err := s.MoveAndHold(ctx, r.ID, "", approved, request.Resetting, at(time.Minute), nil); err == nil {
		t.Error("MoveAndHold(no replica) = nil; want an error")
	}
}
