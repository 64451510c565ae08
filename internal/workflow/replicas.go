package workflow

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// Several replicas of the bot may share one PostgreSQL database. Each
// decision on a request is already one conditional write (two clicks, a
// redelivered envelope or a sweep racing a click decide once, whichever
// replica they land on). What this file adds is the rest:
//
//   - Which replica works on a request: a replica records itself as the
//     request's holder before it creates the request, and in the same
//     transaction as its move to resetting (so of two racing clicks, the
//     winner holds it). A request in work whose holder has
//     stopped sending heartbeats was left behind by a dead replica, and is
//     ended the way a restart ends it: its owner is offered the button
//     (reoffer), and nothing is reset until they press it.
//   - A replica acts on what it holds only while the others would still
//     count it alive (its lease: its last heartbeat the store took, plus
//     the TTL, less a margin for clocks that disagree). IAM is called
//     only with enough of the lease left, and the call is cut off where
//     it ends, so a replica cut off from the store never resets after
//     another may have offered the request again. Before a password is
//     shown, the holder marks the request (resetting, outcome
//     password_set) in a move that requires it to be the holder still
//     (MoveHeld): a request offered again meanwhile is never shown, and
//     one marked is never offered again (it may be on its owner's screen),
//     but ended and its owner told. A request a live replica holds and no
//     longer works on (it stopped short when its lease ran out) is offered
//     again by that replica's next sweep.
//   - Periodic work runs on one replica at a time, the holder of the
//     "sweep" lease, renewed on every tick; when that replica dies its
//     lease expires and another takes it. The lease saves the listing and
//     the IAM look-ups of a second sweeper; what makes each effect happen
//     once is still the conditional write on each item (pending→expired,
//     approved→expired, the unused-password claim, the reoffer's move),
//     which a second sweeper would lose.
//   - A command is acked before it is worked on (Slack wants the ack
//     within 3 seconds). Right after the acks go out, the replica records
//     the acked commands (Acked), and marks each handled when its work is
//     done (releaseCommand). A command acked by a replica that died before
//     handling it is found by another, which tells its sender that nothing
//     was started and to run the command again: the ack's "working on it"
//     is never left hanging.

// ReplicaStore is what the workflow needs of the store to share work with
// the other replicas.
type ReplicaStore interface {
	Heartbeat(ctx context.Context, replicaID string, now time.Time, ttl time.Duration) (live int, err error)
	ClaimLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	HoldRequest(ctx context.Context, id, replicaID string, at time.Time) error
	LeftBehind(ctx context.Context, now time.Time, ttl time.Duration) ([]request.Request, error)
	// MoveHeld is MoveIf, made only while replicaID holds the request.
	MoveHeld(ctx context.Context, id, replicaID string, from []request.State, to request.State, now time.Time,
		cond func(request.Request) bool, update func(*request.Request)) (request.Request, error)
	// MoveAndHold is Move that records replicaID as the holder in the
	// same transaction.
	MoveAndHold(ctx context.Context, id, replicaID string, from []request.State, to request.State, now time.Time,
		update func(*request.Request)) (request.Request, error)
	// HeldBy lists the requests in work that replicaID holds.
	HeldBy(ctx context.Context, replicaID string) ([]request.Request, error)
	// ForgetFinished drops the holders of requests that have ended, and
	// of requests never created that were held before before.
	ForgetFinished(ctx context.Context, before time.Time) error
	// HoldAcked, ReleaseCommand, Abandoned and ClaimAbandoned keep track
	// of commands acked and not yet handled (see Acked).
	HoldAcked(ctx context.Context, replicaID string, at time.Time, cmds []store.Acked) error
	ReleaseCommand(ctx context.Context, id, replicaID string, at time.Time) error
	Abandoned(ctx context.Context, now time.Time, ttl time.Duration) ([]store.Acked, error)
	ClaimAbandoned(ctx context.Context, id string) (bool, error)
}

// Replica is this process's place among the bot's replicas.
type Replica struct {
	// ID names this process among the replicas, new at every start, so a
	// restarted replica is not mistaken for the one that died.
	ID    string
	Store ReplicaStore
	// TTL is how long a replica counts as alive after its last heartbeat,
	// and how long the sweep lease lasts unrenewed.
	TTL time.Duration
	// Solo says this is the only process there can be (the SQLite store):
	// at start, everything in work was left by a previous run, as before
	// replicas.
	Solo bool

	beat atomic.Int64 // time of the last heartbeat the store took, unix ns
}

// Beat sends this replica's heartbeat, at now, and returns how many
// replicas are alive. Only a heartbeat the store took extends the time
// this replica may act on what it holds (see leaseLeft).
func (r *Replica) Beat(ctx context.Context, now time.Time) (live int, err error) {
	live, err = r.Store.Heartbeat(ctx, r.ID, now, r.TTL)
	if err == nil && now.UnixNano() > r.beat.Load() {
		r.beat.Store(now.UnixNano())
	}
	return live, err
}

// leaseLeft is how long this replica may still act on the requests it
// holds: until the others could take them for left behind (its last
// heartbeat plus the TTL), less a sixth of the TTL for replicas' clocks
// that disagree. Without replicas, there is no end.
func (w *Workflow) leaseLeft() time.Duration {
	if w.replica == nil || w.replica.Solo {
		return math.MaxInt64
	}
	last := w.replica.beat.Load()
	if last == 0 {
		return 0
	}
	ttl := w.replica.TTL
	return time.Unix(0, last).Add(ttl - ttl/6).Sub(w.now())
}

// leaseShort reports whether this replica has too little of its lease
// left to start or go on with a reset (see minLeaseToReset).
func (w *Workflow) leaseShort() bool {
	return w.replica != nil && !w.replica.Solo && w.leaseLeft() < w.replica.minLeaseToReset()
}

// minLeaseToReset is the least lease a replica needs left to call IAM, a
// sixth of the TTL: with the default of 30s, 5s, many times what an
// UpdateLoginProfile takes, while a replica whose heartbeats reach the
// store (every third of the TTL) always has 15s to 25s left.
func (r *Replica) minLeaseToReset() time.Duration { return r.TTL / 6 }

// Lease names.
const (
	leaseSweep  = "sweep"  // the periodic work
	leaseResume = "resume" // the resume at start, so replicas starting together do it once
)

// SetStoreReachable records whether the store answers (the bot's health
// loop calls it). While it does not, commands are answered at once with
// words saying so, and no request is acked into work that could not be
// recorded.
func (w *Workflow) SetStoreReachable(ok bool) { w.storeDown.Store(!ok) }

// storeDownAnswer is Preflight's answer while the store is unreachable.
func (w *Workflow) storeDownAnswer() (slacktext.Message, bool) {
	if !w.storeDown.Load() {
		return slacktext.Message{}, false
	}
	return storeDownMessage(), true
}

// holdThenCreate records this replica as the holder of the new request,
// then creates it: never a request in work with no holder.
func (w *Workflow) holdThenCreate(ctx context.Context, req request.Request) (request.Request, error) {
	if err := w.hold(ctx, req.ID); err != nil {
		return request.Request{}, err
	}
	return w.store.CreateRequest(ctx, req, w.cooldownFor(req))
}

// holdThenReset moves the request from `from` to resetting and records
// this replica as its holder, in one transaction: of two replicas whose
// clicks race, the one whose move wins holds it.
func (w *Workflow) holdThenReset(ctx context.Context, id string, from request.State) (request.Request, error) {
	if w.replica == nil || w.replica.Solo {
		return w.store.Move(ctx, id, []request.State{from}, request.Resetting, w.now(), nil)
	}
	return w.replica.Store.MoveAndHold(ctx, id, w.replica.ID, []request.State{from}, request.Resetting, w.now(), nil)
}

func (w *Workflow) hold(ctx context.Context, id string) error {
	if w.replica == nil || w.replica.Solo {
		return nil // nobody to tell this process's work apart from
	}
	return w.replica.Store.HoldRequest(ctx, id, w.replica.ID, w.now())
}

// workingOn counts, by request ID, the calls of this process working on
// a request (HandleCommand, runReset), each counted from before it holds
// the request until it returns. A request this process holds in work and
// no call works on was let go: its next sweep offers it again
// (resumeLetGo). A count, not a set: two clicks on one request may both be
// here, one winning the move into resetting while the other returns.
type workingOn struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *workingOn) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[id]++
}

func (s *workingOn) done(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[id] <= 1 {
		delete(s.n, id)
		return
	}
	s.n[id]--
}

func (s *workingOn) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[id] > 0
}

// moveHeld moves a request this replica holds, only if it still holds it
// (MoveHeld); with one process, a plain conditional move.
func (w *Workflow) moveHeld(ctx context.Context, id string, from, to request.State, cond func(request.Request) bool,
	update func(*request.Request)) (request.Request, error) {
	if w.replica == nil || w.replica.Solo {
		return w.store.MoveIf(ctx, id, []request.State{from}, to, w.now(), cond, update)
	}
	return w.replica.Store.MoveHeld(ctx, id, w.replica.ID, []request.State{from}, to, w.now(), cond, update)
}

// claim takes or renews the lease called name; without replicas, every
// call wins. An error loses: the work waits for the next tick.
func (w *Workflow) claim(ctx context.Context, name string) bool {
	if w.replica == nil {
		return true
	}
	ok, err := w.replica.Store.ClaimLease(ctx, name, w.replica.ID, w.now(), w.replica.TTL)
	if err != nil {
		w.log.Error("could not claim a lease; its work waits", slog.String("lease", name), slog.Any(keyError, err))
		return false
	}
	return ok
}

// leftToResume returns the filter resume applies at start: a request in
// work (resetting, or approved with no offer standing) is taken up only if
// no live replica holds it; others (pending approvals, standing offers)
// are any replica's to check. ok is false when this replica is not the one
// to resume now: another replica starting at the same moment is doing it,
// or the store did not answer.
func (w *Workflow) leftToResume(ctx context.Context) (left func(request.Request) bool, ok bool) {
	all := func(request.Request) bool { return true }
	if w.replica == nil || w.replica.Solo {
		return all, true
	}
	if !w.claim(ctx, leaseResume) {
		return nil, false
	}
	reqs, err := w.replica.Store.LeftBehind(ctx, w.now(), w.replica.TTL)
	if err != nil {
		w.log.Error("could not list the requests dead replicas left", slog.Any(keyError, err))
		return nil, false
	}
	ids := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		ids[r.ID] = true
	}
	return func(r request.Request) bool { return !inWork(r) || ids[r.ID] }, true
}

// inWork reports whether a replica is, or was, working on req: a replica
// and not a person is what it waits for.
func inWork(r request.Request) bool {
	return r.State == request.Resetting || r.State == request.Approved && r.ExpiresAt.IsZero()
}

// beingShown reports whether req's password was set and is being shown to
// its owner (see runReset): it is never offered again.
func beingShown(r request.Request) bool {
	return r.State == request.Resetting && r.Outcome == string(OutcomePasswordSet)
}

// offerable reports whether req may be offered to its owner again: in
// work, and its password not on its way to them.
func offerable(r request.Request) bool { return inWork(r) && !beingShown(r) }

// resumeLeftBehind ends the requests that dead replicas left in work, as a
// restart ends them: no longer allowed, they fail; else their owner is
// offered the button again. The reoffer's move is conditional, so of two
// replicas that both saw a request left behind, one acts.
func (w *Workflow) resumeLeftBehind(ctx context.Context) {
	if w.replica == nil || w.replica.Solo {
		return // the resume at start did it
	}
	// A request refused when recorded leaves a holder behind; an hour is
	// far longer than any creation takes.
	if err := w.replica.Store.ForgetFinished(ctx, w.now().Add(-time.Hour)); err != nil {
		w.log.Warn("could not drop the holders of finished requests", slog.Any(keyError, err))
	}
	reqs, err := w.replica.Store.LeftBehind(ctx, w.now(), w.replica.TTL)
	if err != nil {
		w.log.Error("could not list the requests dead replicas left", slog.Any(keyError, err))
		return
	}
	defer w.tellAbandoned(ctx)
	w.takeUpLeftBehind(ctx, reqs)
}

// resumeLetGo offers again the requests this replica holds in work and
// no longer works on: it stopped short of a reset, or could not record
// the end of one, while its lease had run out or the store did not answer.
// While it is alive, nobody else takes them up. Every replica does this
// at each sweep, with or without the sweep lease.
func (w *Workflow) resumeLetGo(ctx context.Context) {
	if w.replica == nil || w.replica.Solo {
		return
	}
	held, err := w.replica.Store.HeldBy(ctx, w.replica.ID)
	if err != nil {
		w.log.Error("could not list the requests this replica holds", slog.Any(keyError, err))
		return
	}
	var let []request.Request
	for _, r := range held {
		if !w.busy.has(r.ID) {
			let = append(let, r)
		}
	}
	w.takeUpLeftBehind(ctx, let)
}

// takeUpLeftBehind ends requests in work that nobody works on any more,
// as a restart ends them.
func (w *Workflow) takeUpLeftBehind(ctx context.Context, reqs []request.Request) {
	for _, req := range reqs {
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
		if beingShown(req) {
			w.endShown(ctx, log, req)
			continue
		}
		if o := w.allowedNow(req); o != "" {
			log.Info("ending a request left behind, which the configuration no longer allows", slog.String(keyOutcome, string(o)))
			w.endNoLonger(ctx, log, req, req.State, o)
			continue
		}
		log.Info("offering a reset left behind to its owner", slog.String("state", string(req.State)))
		w.reoffer(ctx, log, req)
	}
}

// AckedCommand is a command acked with "working on it" whose work is
// about to start.
type AckedCommand struct {
	RequestID, UserID, EnvelopeID string
}

// RecordsAcks reports whether commands must be recorded before their ack
// (see Acked): with replicas, yes; a single process on SQLite, no.
func (w *Workflow) RecordsAcks() bool { return w.replica != nil && !w.replica.Solo }

// Acked records the commands this replica is about to ack "working on
// it", in one write, before their work starts: if the replica dies before
// handling them, another tells their senders. When the write fails, ok is
// false and answer is what their acks say instead (nothing was started),
// and new commands are answered so until the store answers again.
func (w *Workflow) Acked(ctx context.Context, cmds []AckedCommand) (answer slacktext.Message, ok bool) {
	if !w.RecordsAcks() || len(cmds) == 0 {
		return slacktext.Message{}, true
	}
	acked := make([]store.Acked, len(cmds))
	for i, c := range cmds {
		acked[i] = store.Acked{RequestID: c.RequestID, SlackUser: c.UserID, EnvelopeID: c.EnvelopeID}
	}
	if err := w.replica.Store.HoldAcked(ctx, w.replica.ID, w.now(), acked); err != nil {
		w.log.Error("could not record commands; answered that nothing was started", slog.Int("commands", len(cmds)), slog.Any(keyError, err))
		for range cmds {
			w.countIn("", OutcomeInternal) // the account is not known before the work
		}
		w.SetStoreReachable(false) // the next heartbeat says when it answers again
		return storeDownMessage(), false
	}
	return slacktext.Message{}, true
}

// releaseCommand marks a command's work done, whatever its end.
func (w *Workflow) releaseCommand(ctx context.Context, id string) {
	if w.replica == nil || w.replica.Solo {
		return
	}
	ctx, cancel := finishing(ctx)
	defer cancel()
	if err := w.replica.Store.ReleaseCommand(ctx, id, w.replica.ID, w.now()); err != nil {
		w.log.Warn("could not mark a command handled", slog.String(keyRequest, id), slog.Any(keyError, err))
	}
}

// tellAbandoned tells the sender of each command a dead replica acked and
// never worked on that nothing was started, once: of several replicas,
// the one whose claim wins tells.
func (w *Workflow) tellAbandoned(ctx context.Context) {
	lost, err := w.replica.Store.Abandoned(ctx, w.now(), w.replica.TTL)
	if err != nil {
		w.log.Error("could not list the commands dead replicas acked", slog.Any(keyError, err))
		return
	}
	for _, a := range lost {
		log := w.log.With(slog.String(keyRequest, a.RequestID), slog.String(keyUser, a.SlackUser))
		first, err := w.replica.Store.ClaimAbandoned(ctx, a.RequestID)
		if err != nil || !first {
			if err != nil {
				log.Error("could not claim a command a dead replica acked", slog.Any(keyError, err))
			}
			continue
		}
		log.Info("telling the sender that a dead replica never worked on their command", slog.String(keyOutcome, string(OutcomeInterrupted)))
		w.audit(ctx, log, request.AuditEvent{RequestID: a.RequestID, Action: request.ActionFailed, Actor: a.SlackUser,
			Target: a.SlackUser, Outcome: string(OutcomeInterrupted)})
		w.tellDM(ctx, log, a.SlackUser, lostCommandMessage(a.RequestID))
	}
}
