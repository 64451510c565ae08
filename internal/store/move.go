package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// Move moves request id from one of the states in from to state to, in one
// conditional UPDATE, and returns the request as written.
//
// Every from→to must be allowed by [request.CanMove]; otherwise Move
// returns an error without reading or writing anything. update, if not nil,
// is called on a copy of the current request before it is written, to set
// the fields that go with the move: ApprovalChannel, ApprovalTS, DecidedBy,
// DecidedAt, Outcome, ExpiresAt. Changing any other field is an error and
// nothing is written. update runs inside the write transaction, which holds
// the request's row (on SQLite the store's only writer): it must be quick,
// do no I/O and not call the store (that could deadlock). Move then sets
// State to to and UpdatedAt to now; moving to [request.Delivered] also
// starts the owner's cooldown (see LastDelivered and CreateRequest).
//
// If the request is not in from, Move returns the current request with an
// error wrapping [ErrConflict], without calling update: the caller can tell
// the user who got there first. If there is no such request it returns
// [ErrNotFound].
func (d *sqlDB) Move(ctx context.Context, id string, from []request.State, to request.State, now time.Time, update func(*request.Request)) (request.Request, error) {
	return d.MoveIf(ctx, id, from, to, now, nil, update)
}

// MoveIf is Move that also requires cond of the request as it is in the
// database, read inside the same transaction: when cond says no, it returns
// the current request with an error wrapping [ErrConflict], as a move from
// another state does. It is for moves whose state alone does not say
// whether they were already made (approved→approved: an offer made again
// after a restart). cond may be nil; like update it must be quick and do no
// I/O.
func (d *sqlDB) MoveIf(ctx context.Context, id string, from []request.State, to request.State, now time.Time,
	cond func(request.Request) bool, update func(*request.Request)) (request.Request, error) {
	return d.moveHolding(ctx, id, "", "", from, to, now, cond, update)
}

// MoveHeld is MoveIf for the replica working on the request: it also
// requires, in the same transaction, that replicaID is still the request's
// holder (see [sqlDB.HoldRequest]). A replica whose work another took over
// (it was silent too long, its request was offered again and perhaps taken
// up by another replica) then gets [ErrConflict] and writes nothing, even
// if the request is back in the state it left it in.
func (d *sqlDB) MoveHeld(ctx context.Context, id, replicaID string, from []request.State, to request.State, now time.Time,
	cond func(request.Request) bool, update func(*request.Request)) (request.Request, error) {
	if replicaID == "" {
		return request.Request{}, fmt.Errorf("move request %s to %s: no replica", id, to)
	}
	return d.moveHolding(ctx, id, replicaID, "", from, to, now, cond, update)
}

// MoveAndHold is Move that also records replicaID as the request's holder,
// in the same transaction, for a replica that takes the request into work
// (approved→resetting): of two replicas racing for it, the one whose move
// wins is the holder, and a request in work always has one.
func (d *sqlDB) MoveAndHold(ctx context.Context, id, replicaID string, from []request.State, to request.State, now time.Time,
	update func(*request.Request)) (request.Request, error) {
	if replicaID == "" {
		return request.Request{}, fmt.Errorf("move request %s to %s: no replica", id, to)
	}
	return d.moveHolding(ctx, id, "", replicaID, from, to, now, nil, update)
}

// moveHolding is MoveIf that, when holder is not empty, also requires
// holder to hold the request (MoveHeld), and when take is not empty
// records take as its holder once the move is made (MoveAndHold).
func (d *sqlDB) moveHolding(ctx context.Context, id, holder, take string, from []request.State, to request.State, now time.Time,
	cond func(request.Request) bool, update func(*request.Request)) (request.Request, error) {
	if err := checkMove(from, to, now); err != nil {
		return request.Request{}, fmt.Errorf("move request %s to %s: %w", id, to, err)
	}
	var written request.Request
	err := d.write(ctx, func(tx *sql.Tx) error {
		cur, err := d.getRequest(ctx, tx, "id = ?"+d.forUpdate(), id)
		if err != nil {
			return err
		}
		if !slices.Contains(from, cur.State) {
			written = cur
			return fmt.Errorf("it is %s: %w", cur.State, ErrConflict)
		}
		if cond != nil && !cond(cur) {
			written = cur
			return fmt.Errorf("it changed: %w", ErrConflict)
		}
		if holder != "" {
			// Read after the request's row is locked: a move into work
			// records its holder in its own transaction (take), so one
			// this lock waited for is seen with its holder.
			var held string
			err := tx.QueryRowContext(ctx, d.q("SELECT replica_id FROM request_holders WHERE request_id = ?"), id).Scan(&held)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if held != holder {
				written = cur
				return fmt.Errorf("it is held by another replica: %w", ErrConflict)
			}
		}
		next := cur
		if update != nil {
			update(&next)
			if err := checkImmutable(cur, next); err != nil {
				return err
			}
		}
		next.State = to
		next.UpdatedAt = now
		times, err := nanosAll(next.DecidedAt, next.UpdatedAt, next.ExpiresAt)
		if err != nil {
			return err
		}
		var delivered sql.NullInt64
		if to == request.Delivered {
			delivered = times[1]
		}
		n, err := d.exec(ctx, tx, `UPDATE requests SET
				state = ?, approval_channel = ?, approval_ts = ?, decided_by = ?, decided_at = ?,
				outcome = ?, updated_at = ?, expires_at = ?, delivered_at = COALESCE(?, delivered_at)
			WHERE id = ? AND state IN `+placeholders(len(from)),
			append([]any{string(to), next.ApprovalChannel, next.ApprovalTS, next.DecidedBy, times[0],
				next.Outcome, times[1], times[2], delivered, id}, stateArgs(from)...)...)
		if err != nil {
			return err
		}
		if n != 1 {
			// Unreachable while this transaction holds the row (SQLite: the
			// file), but the condition is the rule, so it is checked.
			written = cur
			return fmt.Errorf("it left %v: %w", from, ErrConflict)
		}
		if take != "" {
			if _, err := d.exec(ctx, tx, `INSERT INTO request_holders (request_id, replica_id, held_at) VALUES (?, ?, ?)
				ON CONFLICT (request_id) DO UPDATE SET replica_id = excluded.replica_id, held_at = excluded.held_at, done = 0`,
				id, take, times[1]); err != nil {
				return err
			}
		}
		written = next
		written.UpdatedAt = fromNanos(times[1])
		written.DecidedAt = fromNanos(times[0])
		written.ExpiresAt = fromNanos(times[2])
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrConflict) {
			written = request.Request{}
		}
		return written, fmt.Errorf("move request %s to %s: %w", id, to, err)
	}
	return written, nil
}

// checkMove validates Move's arguments before any database access.
func checkMove(from []request.State, to request.State, now time.Time) error {
	if len(from) == 0 {
		return errors.New("no state to move from")
	}
	for _, f := range from {
		if !request.CanMove(f, to) {
			return fmt.Errorf("move from %s to %s is not allowed", f, to)
		}
	}
	if now.IsZero() {
		return errors.New("zero time")
	}
	return nil
}

// checkImmutable reports an error if update changed a field that only
// CreateRequest sets. State and UpdatedAt are left out: Move overwrites them.
func checkImmutable(before, after request.Request) error {
	var changed []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"ID", before.ID == after.ID},
		{"Token", before.Token == after.Token},
		{"EnvelopeID", before.EnvelopeID == after.EnvelopeID},
		{"TeamID", before.TeamID == after.TeamID},
		{"SlackUser", before.SlackUser == after.SlackUser},
		{"IAMUser", before.IAMUser == after.IAMUser},
		{"Account", before.Account == after.Account},
		{"Reason", before.Reason == after.Reason},
		{"RequestedBy", before.RequestedBy == after.RequestedBy},
		{"CreatedAt", before.CreatedAt.Equal(after.CreatedAt)},
	} {
		if !f.same {
			changed = append(changed, f.name)
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("update changed immutable %s", strings.Join(changed, ", "))
	}
	return nil
}
