package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// deliver creates a request for user and iamUser and moves it to
// delivered at when.
func deliver(t *testing.T, s Store, user, iamUser string, when time.Time) request.Request {
	t.Helper()
	r := newRequest(user, request.Approved, when.Add(-time.Minute))
	r.IAMUser = iamUser
	return mustMove(t, s, mustCreate(t, s, r), when, request.Resetting, request.Delivered)
}

func testCooldown(t *testing.T, s Store) {
	const cooldown = 10 * time.Minute
	delivered := at(time.Hour)
	for _, tt := range []struct {
		name     string
		setup    func(user string) (last request.Request) // what came before; last: the delivery in the way
		created  time.Time
		cooldown time.Duration
		want     error
	}{
		{"never delivered", func(string) request.Request { return request.Request{} }, delivered, cooldown, nil},
		{"just inside", func(u string) request.Request { return deliver(t, s, u, "iam-"+u, delivered) },
			delivered.Add(cooldown - time.Nanosecond), cooldown, store.ErrCooldown},
		{"exactly over", func(u string) request.Request { deliver(t, s, u, "iam-"+u, delivered); return request.Request{} },
			delivered.Add(cooldown), cooldown, nil},
		{"no cooldown", func(u string) request.Request { deliver(t, s, u, "iam-"+u, delivered); return request.Request{} },
			delivered, 0, nil},
		{"delivered after the new one's creation (clock skew)",
			func(u string) request.Request { return deliver(t, s, u, "iam-"+u, delivered) },
			delivered.Add(-time.Second), cooldown, store.ErrCooldown},
		{"the latest of two deliveries", func(u string) request.Request {
			deliver(t, s, u, "iam-"+u, delivered.Add(-time.Hour))
			return deliver(t, s, u, "iam-"+u, delivered)
		}, delivered.Add(time.Minute), cooldown, store.ErrCooldown},
		{"a failure does not count", func(u string) request.Request {
			r := mustCreate(t, s, newRequest(u, request.Approved, delivered))
			mustMove(t, s, r, delivered, request.Resetting, request.Failed)
			return request.Request{}
		}, delivered.Add(time.Minute), cooldown, nil},
		{"another person's delivery does not count", func(u string) request.Request {
			deliver(t, s, u+"OTHER", "iam-"+u, delivered)
			return request.Request{}
		}, delivered.Add(time.Minute), cooldown, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			user := "U" + tt.name
			last := tt.setup(user)
			r := newRequest(user, request.Approved, tt.created)
			existing, err := s.CreateRequest(t.Context(), r, tt.cooldown)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CreateRequest() = %v; want nil", err)
				}
				mustGet(t, s, r.ID)
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CreateRequest() = %v; want %v", err, tt.want)
			}
			checkRequest(t, "existing", existing, last)
			if !existing.UpdatedAt.Equal(delivered) {
				t.Errorf("existing.UpdatedAt = %v; want the delivery, %v", existing.UpdatedAt, delivered)
			}
			if _, err := s.Request(t.Context(), r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Request(%s) after ErrCooldown = %v; want ErrNotFound", r.ID, err)
			}
		})
	}
	if _, err := s.CreateRequest(t.Context(), newRequest("UNEGATIVE", request.Approved, at(0)), -time.Second); err == nil ||
		matchesSentinel(err) != nil {
		t.Errorf("CreateRequest(negative cooldown) = %v; want an error that is no sentinel", err)
	}
}

func testDMChannels(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.DMChannel(ctx, "T1", "U1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DMChannel(unknown) = %v; want ErrNotFound", err)
	}
	if err := s.SetDMChannel(ctx, "T1", "U1", "D1", at(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDMChannel(ctx, "T1", "U1", "D2", at(time.Second)); err != nil {
		t.Fatalf("SetDMChannel again = %v", err)
	}
	if err := s.SetDMChannel(ctx, "T1", "", "D3", at(0)); err == nil {
		t.Error("SetDMChannel(no user) = nil; want an error")
	}
	if id, err := s.DMChannel(ctx, "T1", "U1"); err != nil || id != "D2" {
		t.Errorf("DMChannel(T1, U1) = %q, %v; want D2", id, err)
	}
	if _, err := s.DMChannel(ctx, "T2", "U1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DMChannel(T2, U1) = %v; want ErrNotFound", err)
	}
}

func testUnusedCandidates(t *testing.T, s Store) {
	ctx := t.Context()
	old := deliver(t, s, "UALICE", "alice", at(time.Hour))
	newer := deliver(t, s, "UALICE", "alice", at(3*time.Hour)) // replaces old's password
	bob := deliver(t, s, "UBOB", "bob", at(2*time.Hour))
	// Carol's IAM user got a newer password through someone else's
	// request (a remapping): her own delivery is no longer the latest.
	deliver(t, s, "UCAROL", "carol", at(time.Hour))
	deliver(t, s, "UDAVE", "carol", at(90*time.Minute))
	pending := mustCreate(t, s, newRequest("UERIN", request.Pending, at(0)))
	_ = pending

	for _, tt := range []struct {
		name   string
		before time.Time
		want   []string
	}{
		{"before everything", at(time.Hour), []string{}},
		{"carol's latest only", at(2 * time.Hour), []string{""}}, // filled in below
		{"bob too", at(2*time.Hour + time.Nanosecond), []string{"", bob.ID}},
		{"never alice's old one", at(4 * time.Hour), []string{"", bob.ID, newer.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UnusedCandidates(ctx, tt.before)
			if err != nil {
				t.Fatalf("UnusedCandidates(%v) = %v; want nil", tt.before, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("UnusedCandidates(%v) = %v; want %d requests", tt.before, ids(got), len(tt.want))
			}
			for i, r := range got {
				if tt.want[i] == "" {
					if r.SlackUser != "UDAVE" || r.IAMUser != "carol" {
						t.Errorf("UnusedCandidates(%v)[%d] = %s; want UDAVE's delivery for carol", tt.before, i, r)
					}
					continue
				}
				if r.ID != tt.want[i] {
					t.Errorf("UnusedCandidates(%v)[%d] = %s; want %s", tt.before, i, r.ID, tt.want[i])
				}
				if r.ID == old.ID {
					t.Errorf("UnusedCandidates(%v) lists alice's older delivery %s", tt.before, old.ID)
				}
			}
		})
	}

	// A claimed one is no longer a candidate.
	if ok, err := s.ClaimUnusedCheck(ctx, bob.ID, at(5*time.Hour)); err != nil || !ok {
		t.Fatalf("ClaimUnusedCheck(%s) = %v, %v; want true", bob.ID, ok, err)
	}
	got, err := s.UnusedCandidates(ctx, at(4*time.Hour))
	if err != nil || slices.Contains(ids(got), bob.ID) || len(got) != 2 {
		t.Errorf("UnusedCandidates() after claiming bob's = %v, %v; want carol's and alice's newer", ids(got), err)
	}
	checkRequest(t, "alice's candidate", got[1], newer)
}

func testClaimUnusedCheck(t *testing.T, s Store) {
	ctx := t.Context()
	old := deliver(t, s, "UALICE", "alice", at(time.Hour))
	if ok, err := s.ClaimUnusedCheck(ctx, old.ID, at(2*time.Hour)); err != nil || !ok {
		t.Fatalf("ClaimUnusedCheck(latest) = %v, %v; want true", ok, err)
	}
	if ok, err := s.ClaimUnusedCheck(ctx, old.ID, at(2*time.Hour)); err != nil || ok {
		t.Errorf("ClaimUnusedCheck(claimed) = %v, %v; want false", ok, err)
	}

	prior := deliver(t, s, "UBOB", "bob", at(time.Hour))
	deliver(t, s, "UBOB", "bob", at(2*time.Hour))
	if ok, err := s.ClaimUnusedCheck(ctx, prior.ID, at(3*time.Hour)); err != nil || ok {
		t.Errorf("ClaimUnusedCheck(superseded) = %v, %v; want false", ok, err)
	}
	active := mustCreate(t, s, newRequest("UCAROL", request.Approved, at(0)))
	for _, id := range []string{active.ID, "RNOSUCHREQ2"} {
		if ok, err := s.ClaimUnusedCheck(ctx, id, at(time.Hour)); err != nil || ok {
			t.Errorf("ClaimUnusedCheck(%s, not delivered) = %v, %v; want false", id, ok, err)
		}
	}
	if _, err := s.ClaimUnusedCheck(ctx, "", at(0)); err == nil {
		t.Error("ClaimUnusedCheck(no ID) = nil; want an error")
	}
	// The claim changes nothing else.
	checkRequest(t, "claimed request", mustGet(t, s, old.ID), old)
}

func testLease(t *testing.T, s Store) {
	ctx := t.Context()
	const ttl = time.Minute
	for _, tt := range []struct {
		name   string
		holder string
		now    time.Time
		want   bool
	}{
		{"free", "A", at(0), true},
		{"held by another", "B", at(30 * time.Second), false},
		{"renewed by its holder", "A", at(50 * time.Second), true},
		{"still held after the first term", "B", at(90 * time.Second), false},
		{"expired", "B", at(50*time.Second + ttl), true},
		{"lost by the old holder", "A", at(60*time.Second + ttl), false},
	} {
		got, err := s.ClaimLease(ctx, "sweep", tt.holder, tt.now, ttl)
		if err != nil || got != tt.want {
			t.Errorf("%s: ClaimLease(sweep, %s) = %v, %v; want %v", tt.name, tt.holder, got, err, tt.want)
		}
	}
	if got, err := s.ClaimLease(ctx, "other", "A", at(0), ttl); err != nil || !got {
		t.Errorf("ClaimLease(other, A) = %v, %v; want true: leases are independent", got, err)
	}
	if err := s.ReleaseLease(ctx, "sweep", "A"); err != nil { // not A's: nothing happens
		t.Fatal(err)
	}
	if got, _ := s.ClaimLease(ctx, "sweep", "A", at(70*time.Second+ttl), ttl); got {
		t.Error("ClaimLease(sweep, A) after A released B's lease = true; want false")
	}
	if err := s.ReleaseLease(ctx, "sweep", "B"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimLease(ctx, "sweep", "A", at(71*time.Second+ttl), ttl); err != nil || !got {
		t.Errorf("ClaimLease(sweep, A) after B released it = %v, %v; want true", got, err)
	}
	for _, bad := range []struct{ name, holder string }{{"", "A"}, {"sweep", ""}} {
		if _, err := s.ClaimLease(ctx, bad.name, bad.holder, at(0), ttl); err == nil {
			t.Errorf("ClaimLease(%q, %q) = nil error; want an error", bad.name, bad.holder)
		}
	}
	if _, err := s.ClaimLease(ctx, "sweep", "A", at(0), 0); err == nil {
		t.Error("ClaimLease(ttl 0) = nil error; want an error")
	}
}

func testHeartbeat(t *testing.T, s Store) {
	ctx := t.Context()
	const ttl = 30 * time.Second
	for _, tt := range []struct {
		replica string
		now     time.Time
		want    int
	}{
		{"a", at(0), 1},
		{"b", at(time.Second), 2},
		{"a", at(10 * time.Second), 2},
		{"c", at(20 * time.Second), 3},
		{"a", at(31 * time.Second), 2},        // b's last beat (1s) is 30s old
		{"c", at(time.Minute), 2},             // a at 31s, c now
		{"c", at(2 * time.Minute), 1},         // alone
		{"b", at(2*time.Minute + 1), 2},       // b is back
		{"c", at(2*time.Minute + ttl), 2},     // c, and b at +1ns
		{"c", at(2*time.Minute + ttl + 1), 1}, // b is exactly ttl old: gone
	} {
		got, err := s.Heartbeat(ctx, tt.replica, tt.now, ttl)
		if err != nil || got != tt.want {
			t.Errorf("Heartbeat(%s, %v) = %d, %v; want %d", tt.replica, tt.now.Sub(base), got, err, tt.want)
		}
	}
	if _, err := s.Heartbeat(ctx, "", at(0), ttl); err == nil {
		t.Error("Heartbeat(no replica) = nil error; want an error")
	}
}
