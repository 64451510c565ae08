package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// racers is how many goroutines race for one thing.
const racers = 20

// testConcurrentMove is twenty approvers clicking Approve at once: one
// decision is recorded and every other click learns who won.
func testConcurrentMove(t *testing.T, s Store) {
	r := mustCreate(t, s, newRequest("URACE", request.Pending, at(0)))
	results := make([]request.Request, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		results[i], err = s.Move(t.Context(), r.ID, []request.State{request.Pending}, request.Approved,
			at(time.Minute), func(r *request.Request) { r.DecidedBy = fmt.Sprintf("UADMIN%02d", i) })
		return err
	})

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("Move by racers %d and %d both succeeded; want one", winner, i)
			}
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("Move by racer %d = %v; want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no Move succeeded; want one")
	}
	stored := mustGet(t, s, r.ID)
	if want := fmt.Sprintf("UADMIN%02d", winner); stored.State != request.Approved || stored.DecidedBy != want {
		t.Errorf("stored %s decided by %q; want approved by %q", stored, stored.DecidedBy, want)
	}
	for i, err := range errs {
		if errors.Is(err, store.ErrConflict) {
			checkRequest(t, fmt.Sprintf("racer %d's current request", i), results[i], stored)
		}
	}
}

// testConcurrentCreate is one person sending twenty slash commands at once.
func testConcurrentCreate(t *testing.T, s Store) {
	reqs := make([]request.Request, racers)
	existing := make([]request.Request, racers)
	for i := range reqs {
		reqs[i] = newRequest("UHASTY", request.Pending, at(time.Duration(i)*time.Second))
	}
	errs := concurrently(racers, func(i int) error {
		var err error
		existing[i], err = s.CreateRequest(t.Context(), reqs[i])
		return err
	})
	winner := oneWinner(t, "CreateRequest", errs, store.ErrActiveRequest)
	for i, err := range errs {
		if err != nil && existing[i].ID != reqs[winner].ID {
			t.Errorf("racer %d: existing = %s; want %s", i, existing[i], reqs[winner].ID)
		}
	}
	if got, err := s.RequestsInState(t.Context(), request.Pending); err != nil || len(got) != 1 {
		t.Errorf("RequestsInState(pending) = %v, %v; want one", ids(got), err)
	}
}

// testConcurrentDuplicateEnvelope is Slack redelivering one envelope to
// several connections at once.
func testConcurrentDuplicateEnvelope(t *testing.T, s Store) {
	errs := concurrently(racers, func(i int) error {
		r := newRequest(fmt.Sprintf("UENV%02d", i), request.Pending, at(0))
		r.EnvelopeID = "env-shared"
		_, err := s.CreateRequest(t.Context(), r)
		return err
	})
	oneWinner(t, "CreateRequest", errs, store.ErrDuplicate)
}

// oneWinner checks that exactly one of errs is nil and the rest are loser,
// and returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s by racers %d and %d both succeeded; want one", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s by racer %d = %v; want nil or %v", what, i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("no %s succeeded; want one", what)
	}
	return winner
}

// testConcurrentReminders is several loops deciding to send one reminder.
func testConcurrentReminders(t *testing.T, s Store) {
	sent := make([]bool, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		sent[i], err = s.ClaimOnce(t.Context(), "pending:RRACE:1", at(time.Duration(i)))
		return err
	})
	n := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("ClaimOnce by racer %d = %v; want nil", i, err)
		}
		if sent[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("ClaimOnce returned true %d times; want 1", n)
	}
}
