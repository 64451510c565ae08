package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
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
