package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

func testMove(t *testing.T, s Store) {
	decide := func(r *request.Request) {
		r.DecidedBy = "UADMIN"
		r.DecidedAt = at(3 * time.Minute)
		r.ApprovalChannel = "C0APPROVE"
		r.ApprovalTS = "1700000000.000200"
	}
	for _, tt := range []struct {
		name   string
		path   []request.State // from Pending, before the move under test
		from   []request.State
		to     request.State
		update func(*request.Request)
	}{
		{"approve", nil, []request.State{request.Pending}, request.Approved, decide},
		{"deny", nil, []request.State{request.Pending}, request.Denied, decide},
		{"expire", nil, []request.State{request.Pending}, request.Expired,
			func(r *request.Request) { r.Outcome = "expired" }},
		{"start reset", []request.State{request.Approved}, []request.State{request.Approved}, request.Resetting, nil},
		{"offer an interrupted reset again", []request.State{request.Approved, request.Resetting},
			[]request.State{request.Resetting}, request.Approved, func(r *request.Request) { r.ExpiresAt = at(time.Hour) }},
		{"deliver", []request.State{request.Approved, request.Resetting},
			[]request.State{request.Resetting}, request.Delivered, func(r *request.Request) { r.Outcome = "delivered" }},
		{"fail from any of several", []request.State{request.Approved},
			[]request.State{request.Pending, request.Approved, request.Resetting}, request.Failed,
			func(r *request.Request) { r.Outcome = "no_login_profile" }},
		{"clear expiry", nil, []request.State{request.Pending}, request.Approved,
			func(r *request.Request) { r.ExpiresAt = time.Time{} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustCreate(t, s, newRequest("U"+tt.name, request.Pending, at(0)))
			r = mustMove(t, s, r, at(time.Minute), tt.path...)

			now := at(5 * time.Minute)
			want := r
			if tt.update != nil {
				tt.update(&want)
			}
			want.State = tt.to
			want.UpdatedAt = now

			got, err := s.Move(t.Context(), r.ID, tt.from, tt.to, now, tt.update)
			if err != nil {
				t.Fatalf("Move(%s, %v, %s) = %v; want nil", r.ID, tt.from, tt.to, err)
			}
			checkRequest(t, "returned", got, want)
			checkRequest(t, "stored", mustGet(t, s, r.ID), want)
		})
	}
}

func testMoveConflict(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("UCONFLICT", request.Pending, at(0)))
	r, err := s.Move(t.Context(), r.ID, []request.State{request.Pending}, request.Approved, at(time.Minute),
		func(r *request.Request) { r.DecidedBy = "UFIRST" })
	if err != nil {
		t.Fatalf("Move(approve) = %v; want nil", err)
	}

	called := false
	got, err := s.Move(t.Context(), r.ID, []request.State{request.Pending}, request.Denied, at(2*time.Minute),
		func(r *request.Request) { called = true; r.DecidedBy = "USECOND" })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Move(deny an approved request) = %v; want ErrConflict", err)
	}
	if called {
		t.Errorf("Move(deny an approved request) called update; want it not called")
	}
	checkRequest(t, "returned with ErrConflict", got, r)
	checkRequest(t, "stored after ErrConflict", mustGet(t, s, r.ID), r)
}

func testMoveNotFound(t *testing.T, s Store) {
	got, err := s.Move(t.Context(), "RNOSUCHREQ2", []request.State{request.Pending}, request.Approved, at(0), nil)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Move(missing) = %v; want ErrNotFound", err)
	}
	if got.ID != "" {
		t.Errorf("Move(missing) returned %s; want zero", got)
	}
}

func testMoveForbidden(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("UFORBID", request.Pending, at(0)))
	for _, tt := range []struct {
		name string
		from []request.State
		to   request.State
		now  time.Time
	}{
		{"out of a terminal state", []request.State{request.Delivered}, request.Pending, at(time.Minute)},
		{"skip approval", []request.State{request.Pending}, request.Resetting, at(time.Minute)},
		{"deliver from pending", []request.State{request.Pending}, request.Delivered, at(time.Minute)},
		{"one bad source among good", []request.State{request.Pending, request.Approved}, request.Denied, at(time.Minute)},
		{"back to pending", []request.State{request.Approved}, request.Pending, at(time.Minute)},
		{"no source", nil, request.Approved, at(time.Minute)},
		{"zero time", []request.State{request.Pending}, request.Approved, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, id := range []string{r.ID, "RNOSUCHREQ2"} {
				called := false
				_, err := s.Move(t.Context(), id, tt.from, tt.to, tt.now, func(*request.Request) { called = true })
				if err == nil {
					t.Fatalf("Move(%s, %v, %s) = nil; want an error", id, tt.from, tt.to)
				}
				// Not even ErrNotFound for the missing ID: the database is not asked.
				if m := matchesSentinel(err); m != nil {
					t.Errorf("Move(%s, %v, %s) = %v; want an error that is not %v", id, tt.from, tt.to, err, m)
				}
				if called {
					t.Errorf("Move(%s, %v, %s) called update; want it not called", id, tt.from, tt.to)
				}
			}
			checkRequest(t, "stored", mustGet(t, s, r.ID), r)
		})
	}
}

func testMoveImmutable(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("UIMMUTABLE", request.Pending, at(0)))
	for _, tt := range []struct {
		name   string
		update func(*request.Request)
	}{
		{"ID", func(r *request.Request) { r.ID = "RCHANGED222" }},
		{"Token", func(r *request.Request) { r.Token = "changed" }},
		{"EnvelopeID", func(r *request.Request) { r.EnvelopeID = "changed" }},
		{"TeamID", func(r *request.Request) { r.TeamID = "TCHANGED" }},
		{"SlackUser", func(r *request.Request) { r.SlackUser = "UCHANGED" }},
		{"IAMUser", func(r *request.Request) { r.IAMUser = "changed" }},
		{"RequestedBy", func(r *request.Request) { r.RequestedBy = "UCHANGED" }},
		{"CreatedAt", func(r *request.Request) { r.CreatedAt = at(time.Hour) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Move(t.Context(), r.ID, []request.State{request.Pending}, request.Approved, at(time.Minute), tt.update)
			if err == nil {
				t.Fatalf("Move(update changes %s) = nil; want an error", tt.name)
			}
			if m := matchesSentinel(err); m != nil {
				t.Errorf("Move(update changes %s) = %v; want an error that is not %v", tt.name, err, m)
			}
			checkRequest(t, "stored", mustGet(t, s, r.ID), r)
		})
	}
}

// testMoveIf: a move whose state alone does not say it was made
// (approved→approved, an offer made again) is made once when its
// condition is read in the same transaction.
func testMoveIf(t *testing.T, s Store) {
	fresh := newRequest("UMOVEIF", request.Approved, at(0))
	fresh.ExpiresAt = time.Time{} // self-service: no offer yet
	r := mustCreate(t, s, fresh)
	notOffered := func(r request.Request) bool { return r.ExpiresAt.IsZero() }
	offer := func(r *request.Request) { r.ExpiresAt = at(time.Hour) }
	got, err := s.MoveIf(t.Context(), r.ID, []request.State{request.Approved}, request.Approved, at(time.Minute), notOffered, offer)
	if err != nil || !got.ExpiresAt.Equal(at(time.Hour)) {
		t.Fatalf("MoveIf(first offer) = %+v, %v; want the offer made", got, err)
	}
	called := false
	again, err := s.MoveIf(t.Context(), r.ID, []request.State{request.Approved}, request.Approved, at(2*time.Minute), notOffered,
		func(r *request.Request) { called = true; offer(r) })
	if !errors.Is(err, store.ErrConflict) || called {
		t.Fatalf("MoveIf(second offer) = %v, update called %v; want ErrConflict and no update", err, called)
	}
	if !again.UpdatedAt.Equal(at(time.Minute)) {
		t.Errorf("MoveIf(second offer) returned UpdatedAt %v; want the current request's, %v", again.UpdatedAt, at(time.Minute))
	}
	checkRequest(t, "stored", mustGet(t, s, r.ID), got)
}
