package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// HoldRequest records that replicaID is working on request id from at on:
// the replica that created it, or that is about to reset it. A replica
// calls it before the write that starts the work (the request's creation,
// its move to resetting), so no request is ever being worked on without a
// holder; the latest holder wins.
func (d *sqlDB) HoldRequest(ctx context.Context, id, replicaID string, at time.Time) error {
	if id == "" || replicaID == "" || at.IsZero() {
		return errors.New("hold request: missing request, replica or time")
	}
	n, err := nanos(at)
	if err != nil {
		return fmt.Errorf("hold request %s: %w", id, err)
	}
	if _, err := d.exec(ctx, d.w, `INSERT INTO request_holders (request_id, replica_id, held_at) VALUES (?, ?, ?)
		ON CONFLICT (request_id) DO UPDATE SET replica_id = excluded.replica_id, held_at = excluded.held_at`,
		id, replicaID, n); err != nil {
		return fmt.Errorf("hold request %s for %s: %w", id, replicaID, err)
	}
	return nil
}

// LeftBehind lists the requests a replica left half-done and is no longer
// there to finish, oldest first: those resetting, or approved with no
// offer standing (created, and not yet reset), whose holder has sent no
// heartbeat within ttl before now, or that have no holder at all (left by
// a bot from before replicas). Standing offers and pending approvals are
// not listed: they wait for a person's click, which any replica serves.
func (d *sqlDB) LeftBehind(ctx context.Context, now time.Time, ttl time.Duration) ([]request.Request, error) {
	if now.IsZero() || ttl <= 0 {
		return nil, errors.New("left behind: missing time or ttl")
	}
	since, err := nanos(now.Add(-ttl))
	if err != nil {
		return nil, fmt.Errorf("left behind: %w", err)
	}
	rs, err := d.listRequests(ctx, d.r, `(state = ? OR (state = ? AND expires_at IS NULL))
		AND NOT EXISTS (SELECT 1 FROM request_holders h JOIN replicas p ON p.replica_id = h.replica_id
			WHERE h.request_id = requests.id AND p.seen_at > ?)
		ORDER BY created_at, id`, string(request.Resetting), string(request.Approved), since)
	if err != nil {
		return nil, fmt.Errorf("list requests left behind: %w", err)
	}
	return rs, nil
}

// ForgetReplica removes replicaID from the live replicas at once, as a
// replica does when it stops: the others then take up what it left
// without waiting for its heartbeat to go stale, and share Slack's limits
// among fewer.
func (d *sqlDB) ForgetReplica(ctx context.Context, replicaID string) error {
	if _, err := d.exec(ctx, d.w, "DELETE FROM replicas WHERE replica_id = ?", replicaID); err != nil {
		return fmt.Errorf("forget replica %s: %w", replicaID, err)
	}
	return nil
}

// ForgetFinished drops the holders of requests that have ended, and of
// requests never created (refused when recorded) held before before: nobody
// works on those, and the table stays as small as the work in flight. A
// holder whose request does not exist yet is kept until then: it is
// recorded just before its request is created.
func (d *sqlDB) ForgetFinished(ctx context.Context, before time.Time) error {
	n, err := nanos(before)
	if err != nil {
		return fmt.Errorf("drop the holders of finished requests: %w", err)
	}
	active := request.ActiveStates()
	args := append(stateArgs(active), n)
	if _, err := d.exec(ctx, d.w, `DELETE FROM request_holders WHERE
		EXISTS (SELECT 1 FROM requests r WHERE r.id = request_holders.request_id AND r.state NOT IN `+placeholders(len(active))+`)
		OR (held_at < ? AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = request_holders.request_id))`, args...); err != nil {
		return fmt.Errorf("drop the holders of finished requests: %w", err)
	}
	return nil
}
