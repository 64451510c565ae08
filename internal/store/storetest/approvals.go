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

// testApprove is two of three: the same approver twice counts once, and
// the second distinct approver decides.
func testApprove(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("UOWNER", request.Pending, at(0)))
	expires := at(time.Hour)
	steps := []struct {
		approver  string
		counted   bool
		approvers []string
		state     request.State
	}{
		{"UADMIN1", true, []string{"UADMIN1"}, request.Pending},
		{"UADMIN1", false, []string{"UADMIN1"}, request.Pending},
		{"UADMIN2", true, []string{"UADMIN1", "UADMIN2"}, request.Approved},
	}
	for i, st := range steps {
		tally, err := s.Approve(t.Context(), r.ID, st.approver, at(time.Duration(i+1)*time.Minute), 2, expires)
		if err != nil {
			t.Fatalf("step %d: Approve(%s) = %v", i, st.approver, err)
		}
		if tally.Counted != st.counted || !slices.Equal(tally.Approvers, st.approvers) || tally.Request.State != st.state {
			t.Errorf("step %d: Approve(%s) = counted %v, %v, %s; want %v, %v, %s", i, st.approver,
				tally.Counted, tally.Approvers, tally.Request.State, st.counted, st.approvers, st.state)
		}
	}
	stored := mustGet(t, s, r.ID)
	if stored.State != request.Approved || stored.DecidedBy != "UADMIN2" || !stored.ExpiresAt.Equal(expires) || !stored.DecidedAt.Equal(at(3*time.Minute)) {
		t.Errorf("stored %s: decided by %q at %v, expires %v; want approved by UADMIN2 at %v, expires %v",
			stored, stored.DecidedBy, stored.DecidedAt, stored.ExpiresAt, at(3*time.Minute), expires)
	}
	if got, err := s.Approvals(t.Context(), r.ID); err != nil || !slices.Equal(got, []string{"UADMIN1", "UADMIN2"}) {
		t.Errorf("Approvals = %v, %v; want [UADMIN1 UADMIN2]", got, err)
	}
}

// testApproveNotPending: a decided request takes no more approvals.
func testApproveNotPending(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("UOWNER", request.Pending, at(0)))
	if _, err := s.Move(t.Context(), r.ID, []request.State{request.Pending}, request.Denied, at(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	tally, err := s.Approve(t.Context(), r.ID, "UADMIN1", at(2*time.Minute), 1, at(time.Hour))
	if !errors.Is(err, store.ErrConflict) || tally.Request.State != request.Denied {
		t.Errorf("Approve(denied) = %s, %v; want the denied request and ErrConflict", tally.Request.State, err)
	}
	if got, _ := s.Approvals(t.Context(), r.ID); len(got) != 0 {
		t.Errorf("Approvals after a refused approval = %v; want none", got)
	}
	if _, err := s.Approve(t.Context(), "nosuch", "UADMIN1", at(time.Minute), 1, at(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Approve(missing) = %v; want ErrNotFound", err)
	}
}

// testConcurrentApprove is twenty approvers pressing Approve at once on a
// request needing two: exactly two count before it is approved, exactly
// one click decides, and the rest find it decided.
func testConcurrentApprove(t *testing.T, ss []Store) {
	r := mustCreate(t, ss[0], newRequest("URACE", request.Pending, at(0)))
	tallies := make([]store.Tally, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		tallies[i], err = ss[i%len(ss)].Approve(t.Context(), r.ID, fmt.Sprintf("UADMIN%02d", i), at(time.Minute), 2, at(time.Hour))
		return err
	})
	decided, counted := 0, 0
	for i, err := range errs {
		switch {
		case err == nil && tallies[i].Request.State == request.Approved:
			decided++
			counted++
		case err == nil:
			counted++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if decided != 1 || counted != 2 {
		t.Errorf("%d clicks decided and %d counted; want 1 and 2", decided, counted)
	}
	if got, err := ss[0].Approvals(t.Context(), r.ID); err != nil || len(got) != 2 {
		t.Errorf("Approvals = %v, %v; want two", got, err)
	}
}

// testConcurrentDoubleClick is one approver's twenty clicks at once on a
// request needing two: they count once, and it stays pending.
func testConcurrentDoubleClick(t *testing.T, ss []Store) {
	r := mustCreate(t, ss[0], newRequest("URACE", request.Pending, at(0)))
	tallies := make([]store.Tally, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		tallies[i], err = ss[i%len(ss)].Approve(t.Context(), r.ID, "UADMIN01", at(time.Minute), 2, at(time.Hour))
		return err
	})
	counted := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
		if tallies[i].Counted {
			counted++
		}
	}
	if counted != 1 {
		t.Errorf("%d clicks counted; want 1", counted)
	}
	if stored := mustGet(t, ss[0], r.ID); stored.State != request.Pending {
		t.Errorf("stored %s; want still pending", stored)
	}
}

// testLastReset: the latest delivery of that person's IAM user in that
// AWS account, whatever the case of its name; none before one. The same
// name in another account is another IAM user, with resets of its own.
func testLastReset(t *testing.T, s Store) {
	if _, err := s.LastReset(t.Context(), "UOWNER", "", "iam-UOWNER"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastReset before any = %v; want ErrNotFound", err)
	}
	var last request.Request
	for i := range 2 {
		r := mustCreate(t, s, newRequest("UOWNER", request.Approved, at(time.Duration(i)*time.Hour)))
		last = mustMove(t, s, r, at(time.Duration(i)*time.Hour+time.Minute), request.Resetting, request.Delivered)
	}
	mustCreate(t, s, newRequest("UOWNER", request.Pending, at(3*time.Hour)))
	prod := mustCreate(t, s, inAccount("UOWNER", "prod", request.Approved, at(4*time.Hour)))
	prod = mustMove(t, s, prod, at(4*time.Hour+time.Minute), request.Resetting, request.Delivered)
	tests := []struct {
		account string
		want    request.Request
	}{
		{"", last},
		{"prod", prod},
		{"dev", request.Request{}},
	}
	for _, tt := range tests {
		got, err := s.LastReset(t.Context(), "UOWNER", tt.account, "IAM-uowner")
		if tt.want.ID == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LastReset(%q) = %s, %v; want ErrNotFound", tt.account, got.ID, err)
			}
			continue
		}
		if err != nil || got.ID != tt.want.ID || !got.UpdatedAt.Equal(tt.want.UpdatedAt) {
			t.Errorf("LastReset(%q) = %s at %v, %v; want %s at %v", tt.account, got.ID, got.UpdatedAt, err, tt.want.ID, tt.want.UpdatedAt)
		}
	}
}
