package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// sentinels are the errors a caller decides on; an invalid call must match
// none of them.
var sentinels = []error{store.ErrNotFound, store.ErrConflict, store.ErrDuplicate, store.ErrActiveRequest, store.ErrCooldown}

func matchesSentinel(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

func testCreateRoundTrip(t *testing.T, s Store) {
	full := newRequest("UFULL", request.Approved, at(0))
	full.RequestedBy = "UADMIN"
	full.ApprovalChannel = "C0APPROVE"
	full.ApprovalTS = "1700000000.000100"
	full.DecidedBy = "UADMIN"
	full.DecidedAt = at(time.Second)
	full.Outcome = "auto_approved"
	full.UpdatedAt = at(2 * time.Second)
	full.ExpiresAt = at(time.Hour)

	bare := newRequest("UBARE", request.Pending, at(0).UTC())
	bare.EnvelopeID = ""
	bare.UpdatedAt = time.Time{} // stored as CreatedAt

	wantBare := bare
	wantBare.UpdatedAt = bare.CreatedAt

	for _, tt := range []struct {
		name string
		in   request.Request
		want request.Request
	}{
		{"every field", full, full},
		{"zero fields", bare, wantBare},
	} {
		t.Run(tt.name, func(t *testing.T) {
			existing, err := s.CreateRequest(t.Context(), tt.in, 0)
			if err != nil {
				t.Fatalf("CreateRequest(%s) = %v; want nil", tt.in, err)
			}
			if existing.ID != "" {
				t.Errorf("CreateRequest(%s) existing = %s; want zero", tt.in, existing)
			}
			checkRequest(t, "Request", mustGet(t, s, tt.in.ID), tt.want)
			byToken, err := s.RequestByToken(t.Context(), tt.in.Token)
			if err != nil {
				t.Fatalf("RequestByToken(%s's token) = %v; want nil", tt.in.ID, err)
			}
			checkRequest(t, "RequestByToken", byToken, tt.want)
		})
	}
}

func testGetMissing(t *testing.T, s Store) {
	mustCreate(t, s, newRequest("UONE", request.Pending, at(0)))
	if _, err := s.Request(t.Context(), "RNOSUCHREQ2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Request(%q) = %v; want ErrNotFound", "RNOSUCHREQ2", err)
	}
	for _, token := range []string{"no-such-token", ""} {
		if _, err := s.RequestByToken(t.Context(), token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RequestByToken(%q) = %v; want ErrNotFound", token, err)
		}
	}
}

func testCreateInvalid(t *testing.T, s Store) {
	for _, tt := range []struct {
		name   string
		change func(*request.Request)
	}{
		{"no ID", func(r *request.Request) { r.ID = "" }},
		{"no token", func(r *request.Request) { r.Token = "" }},
		{"no owner", func(r *request.Request) { r.SlackUser = "" }},
		{"no IAM user", func(r *request.Request) { r.IAMUser = "" }},
		{"no creation time", func(r *request.Request) { r.CreatedAt = time.Time{} }},
		{"pending without expiry", func(r *request.Request) { r.ExpiresAt = time.Time{} }},
		{"starts resetting", func(r *request.Request) { r.State = request.Resetting }},
		{"starts delivered", func(r *request.Request) { r.State = request.Delivered }},
		{"unknown state", func(r *request.Request) { r.State = "bogus" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest("UINVALID", request.Pending, at(0))
			tt.change(&r)
			_, err := s.CreateRequest(t.Context(), r, 0)
			if err == nil {
				t.Fatalf("CreateRequest(%s) = nil; want an error", r)
			}
			if m := matchesSentinel(err); m != nil {
				t.Errorf("CreateRequest(%s) = %v; want an error that is not %v", r, err, m)
			}
		})
	}
	if rs, err := s.RequestsInState(t.Context(), request.Pending); err != nil || len(rs) != 0 {
		t.Errorf("RequestsInState(pending) after invalid creates = %v, %v; want none", ids(rs), err)
	}
}

func testDuplicateEnvelope(t *testing.T, s Store) {
	first := mustCreate(t, s, newRequest("UFIRST", request.Pending, at(0)))

	for _, tt := range []struct {
		name string
		user string
	}{
		{"redelivery", first.SlackUser}, // must be ErrDuplicate, not ErrActiveRequest
		{"other owner", "UOTHER"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			again := newRequest(tt.user, request.Pending, at(time.Second))
			again.EnvelopeID = first.EnvelopeID
			existing, err := s.CreateRequest(t.Context(), again, 0)
			if !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("CreateRequest(same envelope) = %v; want ErrDuplicate", err)
			}
			checkRequest(t, "existing", existing, first)
			if _, err := s.Request(t.Context(), again.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Request(%s) after ErrDuplicate = %v; want ErrNotFound", again.ID, err)
			}
		})
	}

	t.Run("still a duplicate once terminal", func(t *testing.T) {
		mustMove(t, s, first, at(time.Minute), request.Denied)
		again := newRequest(first.SlackUser, request.Pending, at(2*time.Minute))
		again.EnvelopeID = first.EnvelopeID
		if _, err := s.CreateRequest(t.Context(), again, 0); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("CreateRequest(same envelope, first denied) = %v; want ErrDuplicate", err)
		}
	})

	t.Run("no envelope, no dedupe", func(t *testing.T) {
		for _, user := range []string{"UNOENV1", "UNOENV2"} {
			r := newRequest(user, request.Pending, at(0))
			r.EnvelopeID = ""
			mustCreate(t, s, r)
		}
	})
}

func testOneActivePerOwner(t *testing.T, s Store) {
	// How to bring a new request into each state.
	paths := map[request.State][]request.State{
		request.Pending:   nil,
		request.Approved:  {request.Approved},
		request.Resetting: {request.Approved, request.Resetting},
		request.Delivered: {request.Approved, request.Resetting, request.Delivered},
		request.Failed:    {request.Failed},
		request.Denied:    {request.Denied},
		request.Expired:   {request.Expired},
	}
	for _, state := range []request.State{
		request.Pending, request.Approved, request.Resetting,
		request.Delivered, request.Failed, request.Denied, request.Expired,
	} {
		t.Run(string(state), func(t *testing.T) {
			user := "U" + string(state)
			first := mustCreate(t, s, newRequest(user, request.Pending, at(0)))
			first = mustMove(t, s, first, at(time.Minute), paths[state]...)

			second := newRequest(user, request.Approved, at(time.Hour))
			existing, err := s.CreateRequest(t.Context(), second, 0)
			if slices.Contains(request.ActiveStates(), state) {
				if !errors.Is(err, store.ErrActiveRequest) {
					t.Fatalf("CreateRequest(second, first %s) = %v; want ErrActiveRequest", state, err)
				}
				checkRequest(t, "existing", existing, first)
				if _, err := s.Request(t.Context(), second.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Request(second) after ErrActiveRequest = %v; want ErrNotFound", err)
				}
				// Finishing the first frees the place.
				if state != request.Pending {
					mustMove(t, s, first, at(2*time.Minute), request.Failed)
				} else {
					mustMove(t, s, first, at(2*time.Minute), request.Expired)
				}
				if _, err := s.CreateRequest(t.Context(), second, 0); err != nil {
					t.Errorf("CreateRequest(second) after the first ended = %v; want nil", err)
				}
				return
			}
			if err != nil {
				t.Errorf("CreateRequest(second, first %s) = %v; want nil", state, err)
			}
			if existing.ID != "" {
				t.Errorf("CreateRequest(second, first %s) existing = %s; want zero", state, existing)
			}
		})
	}
}

func testSetApprovalMessage(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("UMESSAGE", request.Pending, at(0)))
	if err := s.SetApprovalMessage(t.Context(), r.ID, "C0APPROVE", "1700000000.000300"); err != nil {
		t.Fatalf("SetApprovalMessage(%s) = %v; want nil", r.ID, err)
	}
	want := r
	want.ApprovalChannel, want.ApprovalTS = "C0APPROVE", "1700000000.000300"
	checkRequest(t, "stored", mustGet(t, s, r.ID), want)

	if err := s.SetApprovalMessage(t.Context(), "RNOSUCHREQ2", "C0APPROVE", "1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetApprovalMessage(missing) = %v; want ErrNotFound", err)
	}
}

func testRequestsInState(t *testing.T, s Store) {
	// Created out of order, so insertion order cannot pass for age.
	var pending []request.Request
	for i, offset := range []time.Duration{3, 1, 2} {
		r := newRequest(fmt.Sprintf("UPENDING%d", i), request.Pending, at(offset*time.Minute))
		pending = append(pending, mustCreate(t, s, r))
	}
	resetting := mustMove(t, s, mustCreate(t, s, newRequest("URESET", request.Approved, at(0))),
		at(time.Minute), request.Resetting)

	for _, tt := range []struct {
		state request.State
		want  []string
	}{
		{request.Pending, []string{pending[1].ID, pending[2].ID, pending[0].ID}},
		{request.Resetting, []string{resetting.ID}},
		{request.Approved, []string{}},
		{request.Delivered, []string{}},
	} {
		got, err := s.RequestsInState(t.Context(), tt.state)
		if err != nil {
			t.Fatalf("RequestsInState(%s) = %v; want nil", tt.state, err)
		}
		if !slices.Equal(ids(got), tt.want) {
			t.Errorf("RequestsInState(%s) = %v; want %v", tt.state, ids(got), tt.want)
		}
	}
	got, err := s.RequestsInState(t.Context(), request.Resetting)
	if err != nil || len(got) != 1 {
		t.Fatalf("RequestsInState(resetting) = %v, %v; want one", ids(got), err)
	}
	checkRequest(t, "RequestsInState(resetting)[0]", got[0], resetting)
}

func testExpiredPending(t *testing.T, s Store) {
	expiry := at(time.Hour)
	soon := newRequest("USOON", request.Pending, at(0))
	soon.ExpiresAt = expiry
	later := newRequest("ULATER", request.Pending, at(0))
	later.ExpiresAt = expiry.Add(time.Nanosecond)
	earlier := newRequest("UEARLIER", request.Pending, at(time.Second))
	earlier.ExpiresAt = expiry.Add(-time.Minute)
	approved := newRequest("UAPPROVED", request.Approved, at(0)) // expiry means nothing once approved
	approved.ExpiresAt = expiry.Add(-time.Hour)
	for _, r := range []request.Request{soon, later, earlier, approved} {
		mustCreate(t, s, r)
	}

	for _, tt := range []struct {
		name string
		now  time.Time
		want []string
	}{
		{"long before", at(0), []string{}},
		{"just before", expiry.Add(-time.Nanosecond), []string{earlier.ID}},
		{"exactly at", expiry, []string{earlier.ID, soon.ID}},
		{"exactly at, in UTC", expiry.UTC(), []string{earlier.ID, soon.ID}},
		{"just after", expiry.Add(time.Nanosecond), []string{earlier.ID, soon.ID, later.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ExpiredPending(t.Context(), tt.now)
			if err != nil {
				t.Fatalf("ExpiredPending(%v) = %v; want nil", tt.now, err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("ExpiredPending(%v) = %v; want %v", tt.now, ids(got), tt.want)
			}
		})
	}

	// Once expired it is no longer pending.
	mustMove(t, s, earlier, expiry, request.Expired)
	got, err := s.ExpiredPending(t.Context(), expiry)
	if err != nil || !slices.Equal(ids(got), []string{soon.ID}) {
		t.Errorf("ExpiredPending(expiry) after expiring one = %v, %v; want [%s]", ids(got), err, soon.ID)
	}
}

func testLastDelivered(t *testing.T, s Store) {
	ctx := t.Context()
	check := func(user string, want time.Time) {
		t.Helper()
		got, err := s.LastDelivered(ctx, user)
		if err != nil {
			t.Fatalf("LastDelivered(%q) = %v; want nil", user, err)
		}
		if !got.Equal(want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("LastDelivered(%q) = %v; want %v in UTC", user, got, want.UTC())
		}
	}
	check("UCOOL", time.Time{})

	deliver := func(user string, when time.Time) {
		t.Helper()
		r := mustCreate(t, s, newRequest(user, request.Approved, when.Add(-time.Minute)))
		mustMove(t, s, r, when, request.Resetting, request.Delivered)
	}
	deliver("UCOOL", at(time.Hour))
	check("UCOOL", at(time.Hour))
	deliver("UCOOL", at(2*time.Hour))
	check("UCOOL", at(2*time.Hour))

	// A failure, and other people's deliveries, do not count.
	failed := mustCreate(t, s, newRequest("UCOOL", request.Approved, at(3*time.Hour)))
	mustMove(t, s, failed, at(4*time.Hour), request.Resetting, request.Failed)
	deliver("UOTHER", at(5*time.Hour))
	check("UCOOL", at(2*time.Hour))
	check("UNEVER", time.Time{})
}
