// Package storetest is the behavioural test suite every implementation of
// the bot's store must pass, so that the SQLite store of a single bot and a
// shared database behind several replicas keep the same promises. Call
// [Run] from the implementation's own tests.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// Store is the contract under test: the methods of store.SQLite and
// store.Postgres.
type Store interface {
	Close() error
	Ping(ctx context.Context) error

	CreateRequest(ctx context.Context, r request.Request, cooldown time.Duration) (existing request.Request, err error)
	Request(ctx context.Context, id string) (request.Request, error)
	RequestByToken(ctx context.Context, token string) (request.Request, error)
	Move(ctx context.Context, id string, from []request.State, to request.State, now time.Time, update func(*request.Request)) (request.Request, error)
	MoveIf(ctx context.Context, id string, from []request.State, to request.State, now time.Time,
		cond func(request.Request) bool, update func(*request.Request)) (request.Request, error)
	SetApprovalMessage(ctx context.Context, id, channel, ts string) error
	RequestsInState(ctx context.Context, state request.State) ([]request.Request, error)
	ExpiredPending(ctx context.Context, now time.Time) ([]request.Request, error)
	LastDelivered(ctx context.Context, slackUser string) (time.Time, error)

	AppendAudit(ctx context.Context, e request.AuditEvent) error
	Audit(ctx context.Context, since time.Time) ([]request.AuditEvent, error)

	ClaimOnce(ctx context.Context, key string, at time.Time) (bool, error)

	DMChannel(ctx context.Context, team, slackUser string) (string, error)
	SetDMChannel(ctx context.Context, team, slackUser, channelID string, at time.Time) error

	UnusedCandidates(ctx context.Context, deliveredBefore time.Time) ([]request.Request, error)
	ClaimUnusedCheck(ctx context.Context, requestID string, at time.Time) (bool, error)

	ClaimLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	Heartbeat(ctx context.Context, replicaID string, now time.Time, ttl time.Duration) (live int, err error)

	Approve(ctx context.Context, id, approver string, now time.Time, need int, expiresAt time.Time) (store.Tally, error)
	Approvals(ctx context.Context, id string) ([]string, error)
	LastReset(ctx context.Context, slackUser, account, iamUser string) (request.Request, error)
	ForgetReplica(ctx context.Context, replicaID string) error
	HoldRequest(ctx context.Context, id, replicaID string, at time.Time) error
	LeftBehind(ctx context.Context, now time.Time, ttl time.Duration) ([]request.Request, error)
	MoveHeld(ctx context.Context, id, replicaID string, from []request.State, to request.State, now time.Time,
		cond func(request.Request) bool, update func(*request.Request)) (request.Request, error)
	HeldBy(ctx context.Context, replicaID string) ([]request.Request, error)
	MoveAndHold(ctx context.Context, id, replicaID string, from []request.State, to request.State, now time.Time,
		update func(*request.Request)) (request.Request, error)
	ForgetFinished(ctx context.Context, before time.Time) error
	HoldAcked(ctx context.Context, replicaID string, at time.Time, cmds []store.Acked) error
	ReleaseCommand(ctx context.Context, id, replicaID string, at time.Time) error
	Abandoned(ctx context.Context, now time.Time, ttl time.Duration) ([]store.Acked, error)
	ClaimAbandoned(ctx context.Context, id string) (bool, error)
}

// Run runs the suite. open must return a new, empty store for each call and
// arrange (with t.Cleanup) for it to be closed and removed.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Ping", testPing},
		{"CreateRoundTrip", testCreateRoundTrip},
		{"GetMissing", testGetMissing},
		{"CreateInvalid", testCreateInvalid},
		{"DuplicateEnvelope", testDuplicateEnvelope},
		{"OneActivePerOwner", testOneActivePerOwner},
		{"ActivePerAccount", testActivePerAccount},
		{"CooldownPerAccount", testCooldownPerAccount},
		{"UnusedPerAccount", testUnusedPerAccount},
		{"Move", testMove},
		{"MoveConflict", testMoveConflict},
		{"MoveIf", testMoveIf},
		{"MoveNotFound", testMoveNotFound},
		{"MoveForbidden", testMoveForbidden},
		{"MoveImmutable", testMoveImmutable},
		{"SetApprovalMessage", testSetApprovalMessage},
		{"RequestsInState", testRequestsInState},
		{"ExpiredPending", testExpiredPending},
		{"LastDelivered", testLastDelivered},
		{"Cooldown", testCooldown},
		{"Audit", testAudit},
		{"AuditInvalid", testAuditInvalid},
		{"ClaimOnce", testClaimOnce},
		{"DMChannels", testDMChannels},
		{"UnusedCandidates", testUnusedCandidates},
		{"ClaimUnusedCheck", testClaimUnusedCheck},
		{"Lease", testLease},
		{"Heartbeat", testHeartbeat},
		{"Approve", testApprove},
		{"ApproveNotPending", testApproveNotPending},
		{"LastReset", testLastReset},
		{"LeftBehind", testLeftBehind},
		{"MoveHeld", testMoveHeld},
		{"HeldBy", testHeldBy},
		{"MoveAndHold", testMoveAndHold},
		{"Abandoned", testAbandoned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, open(t))
		})
	}
	for _, tt := range concurrentTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, []Store{open(t)})
		})
	}
}

// RunShared runs the concurrency tests with the racers spread over two
// stores on one database, as two processes or replicas would hold them.
// open must return both for each call, on a new, empty database, and
// arrange for them to be closed and removed.
func RunShared(t *testing.T, open func(t *testing.T) (Store, Store)) {
	for _, tt := range concurrentTests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			tt.test(t, []Store{a, b})
		})
	}
}

// concurrentTests race goroutines over one or more stores on one
// database; racer i uses stores[i%len(stores)].
var concurrentTests = []struct {
	name string
	test func(*testing.T, []Store)
}{
	{"ConcurrentMove", testConcurrentMove},
	{"ConcurrentCreate", testConcurrentCreate},
	{"ConcurrentCreateCooldown", testConcurrentCreateCooldown},
	{"ConcurrentDuplicateEnvelope", testConcurrentDuplicateEnvelope},
	{"ConcurrentClaimOnce", testConcurrentClaimOnce},
	{"ConcurrentClaimUnusedCheck", testConcurrentClaimUnusedCheck},
	{"ConcurrentLease", testConcurrentLease},
	{"ConcurrentApprove", testConcurrentApprove},
	{"ConcurrentDoubleClick", testConcurrentDoubleClick},
}

// zone is not UTC, so the suite notices a store that keeps or loses the
// caller's zone instead of returning UTC.
var zone = time.FixedZone("UTC+5:30", 5*3600+30*60)

// base has nanoseconds, so the suite notices lost precision.
var base = time.Date(2031, time.March, 14, 15, 9, 26, 535897932, zone)

// at returns base+d.
func at(d time.Duration) time.Time { return base.Add(d) }

// newRequest returns a valid new request for user in state with every
// field the caller may set filled in.
func newRequest(user string, state request.State, created time.Time) request.Request {
	id := request.NewID()
	return request.Request{
		ID:          id,
		Token:       request.NewToken(),
		EnvelopeID:  "env-" + id,
		TeamID:      "T0TEAM",
		SlackUser:   user,
		IAMUser:     "iam-" + user,
		RequestedBy: user,
		Reason:      "locked out <@U0ALICE001> *before* the deploy",
		State:       state,
		CreatedAt:   created,
		UpdatedAt:   created,
		ExpiresAt:   created.Add(time.Hour),
	}
}

// mustCreate stores r and fails the test if that fails.
func mustCreate(t *testing.T, s Store, r request.Request) request.Request {
	t.Helper()
	if _, err := s.CreateRequest(t.Context(), r, 0); err != nil {
		t.Fatalf("CreateRequest(%s) = %v; want nil", r, err)
	}
	return r
}

// mustMove moves r along path (each step from the state before it) at now.
func mustMove(t *testing.T, s Store, r request.Request, now time.Time, path ...request.State) request.Request {
	t.Helper()
	for _, to := range path {
		var err error
		r, err = s.Move(t.Context(), r.ID, []request.State{r.State}, to, now, nil)
		if err != nil {
			t.Fatalf("Move(%s, %s) = %v; want nil", r.ID, to, err)
		}
	}
	return r
}

// mustGet reads request id.
func mustGet(t *testing.T, s Store, id string) request.Request {
	t.Helper()
	r, err := s.Request(t.Context(), id)
	if err != nil {
		t.Fatalf("Request(%s) = %v; want nil", id, err)
	}
	return r
}

// diffRequest lists how got differs from want. Times compare as instants,
// and a non-zero time in got must be in UTC.
func diffRequest(got, want request.Request) []string {
	var diffs []string
	str := func(name, g, w string) {
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s = %q; want %q", name, g, w))
		}
	}
	tm := func(name string, g, w time.Time) {
		switch {
		case !g.Equal(w):
			diffs = append(diffs, fmt.Sprintf("%s = %v; want %v", name, g, w))
		case !g.IsZero() && g.Location() != time.UTC:
			diffs = append(diffs, fmt.Sprintf("%s is in %v; want UTC", name, g.Location()))
		}
	}
	str("ID", got.ID, want.ID)
	str("Token", got.Token, want.Token)
	str("EnvelopeID", got.EnvelopeID, want.EnvelopeID)
	str("TeamID", got.TeamID, want.TeamID)
	str("SlackUser", got.SlackUser, want.SlackUser)
	str("IAMUser", got.IAMUser, want.IAMUser)
	str("RequestedBy", got.RequestedBy, want.RequestedBy)
	str("State", string(got.State), string(want.State))
	str("ApprovalChannel", got.ApprovalChannel, want.ApprovalChannel)
	str("ApprovalTS", got.ApprovalTS, want.ApprovalTS)
	str("DecidedBy", got.DecidedBy, want.DecidedBy)
	tm("DecidedAt", got.DecidedAt, want.DecidedAt)
	str("Outcome", got.Outcome, want.Outcome)
	tm("CreatedAt", got.CreatedAt, want.CreatedAt)
	tm("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	tm("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return diffs
}

// checkRequest fails the test if got differs from want.
func checkRequest(t *testing.T, what string, got, want request.Request) {
	t.Helper()
	for _, d := range diffRequest(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

// ids returns the IDs of rs, for comparing lists.
func ids(rs []request.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// concurrently runs fn(0) … fn(n-1) in n goroutines released together and
// returns their errors by index.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testPing(t *testing.T, s Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v; want nil", err)
	}
}
