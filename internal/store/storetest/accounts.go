package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// inAccount is newRequest for an IAM user in an AWS account.
func inAccount(user, account string, state request.State, created time.Time) request.Request {
	r := newRequest(user, state, created)
	r.Account = account
	return r
}

// testActivePerAccount checks that "one active request" is per (owner,
// account): a person's active request in one account does not stand in
// the way of one in another, and does in its own.
func testActivePerAccount(t *testing.T, s Store) {
	ctx := t.Context()
	prod := mustCreate(t, s, inAccount("UTWO", "prod", request.Pending, at(0)))
	mustCreate(t, s, inAccount("UTWO", "dev", request.Pending, at(time.Second)))
	mustCreate(t, s, inAccount("UTWO", "", request.Approved, at(2*time.Second)))
	existing, err := s.CreateRequest(ctx, inAccount("UTWO", "prod", request.Pending, at(3*time.Second)), 0)
	if !errors.Is(err, store.ErrActiveRequest) || existing.ID != prod.ID {
		t.Errorf("CreateRequest(second in prod) = %s, %v; want %s, ErrActiveRequest", existing, err, prod.ID)
	}
	if got := mustGet(t, s, prod.ID); got.Account != "prod" {
		t.Errorf("Request(%s).Account = %q; want prod", prod.ID, got.Account)
	}
}

// testCooldownPerAccount checks that a delivery in one account starts the
// cooldown there only.
func testCooldownPerAccount(t *testing.T, s Store) {
	const cooldown = 10 * time.Minute
	ctx := t.Context()
	when := at(time.Hour)
	r := inAccount("UCOOL", "prod", request.Approved, when.Add(-time.Minute))
	last := mustMove(t, s, mustCreate(t, s, r), when, request.Resetting, request.Delivered)
	if _, err := s.CreateRequest(ctx, inAccount("UCOOL", "dev", request.Approved, when.Add(time.Minute)), cooldown); err != nil {
		t.Errorf("CreateRequest(dev, a minute after a delivery in prod) = %v; want nil", err)
	}
	if _, err := s.CreateRequest(ctx, inAccount("UCOOL", "", request.Approved, when.Add(time.Minute)), cooldown); err != nil {
		t.Errorf("CreateRequest(own account, a minute after a delivery in prod) = %v; want nil", err)
	}
	existing, err := s.CreateRequest(ctx, inAccount("UCOOL", "prod", request.Approved, when.Add(2*time.Minute)), cooldown)
	if !errors.Is(err, store.ErrCooldown) || existing.ID != last.ID {
		t.Errorf("CreateRequest(prod, two minutes after a delivery there) = %s, %v; want %s, ErrCooldown", existing, err, last.ID)
	}
}

// testUnusedPerAccount checks that the unused-password sweep tells IAM
// users of the same name in two accounts apart: each is its own latest
// delivery.
func testUnusedPerAccount(t *testing.T, s Store) {
	ctx := t.Context()
	var ids []string
	for i, account := range []string{"prod", "dev"} {
		when := at(time.Duration(i) * time.Minute)
		r := inAccount("USAME"+account, account, request.Approved, when.Add(-time.Second))
		r.IAMUser = "bob"
		ids = append(ids, mustMove(t, s, mustCreate(t, s, r), when, request.Resetting, request.Delivered).ID)
	}
	got, err := s.UnusedCandidates(ctx, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Errorf("UnusedCandidates = %v; want both deliveries of bob (%v), one per account", got, ids)
	}
}
