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
func testConcurrentMove(t *testing.T, ss []Store) {
	r := mustCreate(t, ss[0], newRequest("URACE", request.Pending, at(0)))
	results := make([]request.Request, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		results[i], err = ss[i%len(ss)].Move(t.Context(), r.ID, []request.State{request.Pending}, request.Approved,
			at(time.Minute), func(r *request.Request) { r.DecidedBy = fmt.Sprintf("UADMIN%02d", i) })
		return err
	})
	winner := oneWinner(t, "Move", errs, store.ErrConflict)
	stored := mustGet(t, ss[0], r.ID)
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
func testConcurrentCreate(t *testing.T, ss []Store) {
	reqs := make([]request.Request, racers)
	existing := make([]request.Request, racers)
	for i := range reqs {
		reqs[i] = newRequest("UHASTY", request.Pending, at(time.Duration(i)*time.Second))
	}
	errs := concurrently(racers, func(i int) error {
		var err error
		existing[i], err = ss[i%len(ss)].CreateRequest(t.Context(), reqs[i], time.Hour)
		return err
	})
	winner := oneWinner(t, "CreateRequest", errs, store.ErrActiveRequest)
	for i, err := range errs {
		if err != nil && existing[i].ID != reqs[winner].ID {
			t.Errorf("racer %d: existing = %s; want %s", i, existing[i], reqs[winner].ID)
		}
	}
	if got, err := ss[0].RequestsInState(t.Context(), request.Pending); err != nil || len(got) != 1 {
		t.Errorf("RequestsInState(pending) = %v, %v; want one", ids(got), err)
	}
}

// testConcurrentCreateCooldown is the race of issue 11: a person's request
// is delivered while new commands of theirs are being created. Whatever
// the interleaving, no new request is created within the cooldown of the
// delivery.
func testConcurrentCreateCooldown(t *testing.T, ss []Store) {
	const cooldown = time.Hour
	for round := range 5 {
		user := fmt.Sprintf("UQUICK%d", round)
		first := mustMove(t, ss[0], mustCreate(t, ss[0], newRequest(user, request.Approved, at(0))), at(time.Second),
			request.Resetting)
		delivered := at(2 * time.Second)
		errs := concurrently(racers, func(i int) error {
			s := ss[i%len(ss)]
			if i == 0 {
				_, err := s.Move(t.Context(), first.ID, []request.State{request.Resetting}, request.Delivered, delivered, nil)
				return err
			}
			_, err := s.CreateRequest(t.Context(), newRequest(user, request.Approved, at(3*time.Second)), cooldown)
			return err
		})
		if errs[0] != nil {
			t.Fatalf("Move(deliver) = %v; want nil", errs[0])
		}
		for i, err := range errs[1:] {
			if !errors.Is(err, store.ErrActiveRequest) && !errors.Is(err, store.ErrCooldown) {
				t.Errorf("round %d: CreateRequest by racer %d = %v; want ErrActiveRequest or ErrCooldown", round, i+1, err)
			}
		}
		for _, state := range request.ActiveStates() {
			rs, err := ss[0].RequestsInState(t.Context(), state)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.SlackUser == user {
					t.Errorf("round %d: %s was created within the cooldown", round, r)
				}
			}
		}
	}
}

// testConcurrentDuplicateEnvelope is Slack redelivering one envelope to
// several connections at once.
func testConcurrentDuplicateEnvelope(t *testing.T, ss []Store) {
	errs := concurrently(racers, func(i int) error {
		r := newRequest(fmt.Sprintf("UENV%02d", i), request.Pending, at(0))
		r.EnvelopeID = "env-shared"
		_, err := ss[i%len(ss)].CreateRequest(t.Context(), r, 0)
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

// oneTrue checks that exactly one racer got true and none an error.
func oneTrue(t *testing.T, what string, got []bool, errs []error) {
	t.Helper()
	n := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s by racer %d = %v; want nil", what, i, err)
		}
		if got[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s returned true %d times; want 1", what, n)
	}
}

// testConcurrentClaimOnce is several loops deciding to send one reminder.
func testConcurrentClaimOnce(t *testing.T, ss []Store) {
	got := make([]bool, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		got[i], err = ss[i%len(ss)].ClaimOnce(t.Context(), "pending:RRACE:1", at(time.Duration(i)))
		return err
	})
	oneTrue(t, "ClaimOnce", got, errs)
}

// testConcurrentClaimUnusedCheck is the unused-password sweeper of every
// replica waking at once.
func testConcurrentClaimUnusedCheck(t *testing.T, ss []Store) {
	r := deliver(t, ss[0], "USWEPT", "iam-swept", at(time.Minute))
	got := make([]bool, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		got[i], err = ss[i%len(ss)].ClaimUnusedCheck(t.Context(), r.ID, at(time.Hour))
		return err
	})
	oneTrue(t, "ClaimUnusedCheck", got, errs)
}

// testConcurrentLease is every replica's sweeper asking for one lease.
func testConcurrentLease(t *testing.T, ss []Store) {
	got := make([]bool, racers)
	errs := concurrently(racers, func(i int) error {
		var err error
		got[i], err = ss[i%len(ss)].ClaimLease(t.Context(), "sweep", fmt.Sprintf("replica-%02d", i), at(0), time.Minute)
		return err
	})
	oneTrue(t, "ClaimLease", got, errs)
}
