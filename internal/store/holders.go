package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// HoldRequest records that replicaID is working on request id from at on:
// the replica about to create it. A replica calls it before the creation,
// so no request is ever being worked on without a holder; the latest
// holder wins. A move into resetting records its holder itself
// ([sqlDB.MoveAndHold]).
func (d *sqlDB) HoldRequest(ctx context.Context, id, replicaID string, at time.Time) error {
	if id == "" || replicaID == "" || at.IsZero() {
		return errors.New("hold request: missing request, replica or time")
	}
	n, err := nanos(at)
	if err != nil {
		return fmt.Errorf("hold request %s: %w", id, err)
	}
	if _, err := d.exec(ctx, d.w, `INSERT INTO request_holders (request_id, replica_id, held_at) VALUES (?, ?, ?)
		ON CONFLICT (request_id) DO UPDATE SET replica_id = excluded.replica_id, held_at = excluded.held_at, done = 0`,
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

// HeldBy lists the requests in work (as [sqlDB.LeftBehind] counts them)
// whose holder is replicaID, oldest first. A replica compares them with
// what it is working on: one it holds and no longer works on was let go
// (its heartbeat lapsed while it worked, so it stopped short), and nobody
// else will take it up while the replica is alive.
func (d *sqlDB) HeldBy(ctx context.Context, replicaID string) ([]request.Request, error) {
	rs, err := d.listRequests(ctx, d.r, `(state = ? OR (state = ? AND expires_at IS NULL))
		AND EXISTS (SELECT 1 FROM request_holders h WHERE h.request_id = requests.id AND h.replica_id = ?)
		ORDER BY created_at, id`, string(request.Resetting), string(request.Approved), replicaID)
	if err != nil {
		return nil, fmt.Errorf("list requests held by %s: %w", replicaID, err)
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

// Acked is a command a replica acked, to be recorded before its work
// starts: see [sqlDB.HoldAcked].
type Acked struct {
	RequestID  string
	SlackUser  string // who sent it
	EnvelopeID string // the Socket Mode envelope it came in
}

// HoldAcked records, in one statement per few hundred, that replicaID
// acked these commands at at and is about to work on them. A command whose
// holder dies before it is handled (see [sqlDB.ReleaseCommand]) and before
// its request is created is then found by [sqlDB.Abandoned]. A row already
// there (the work got to it first) is kept as it is.
func (d *sqlDB) HoldAcked(ctx context.Context, replicaID string, at time.Time, cmds []Acked) error {
	n, err := nanos(at)
	if err != nil || replicaID == "" {
		return fmt.Errorf("hold acked commands: missing replica or time (%v)", err)
	}
	if d.pg {
		return d.holdAckedPostgres(ctx, replicaID, n, cmds)
	}
	const chunk = 500 // well under SQLite's limit of 32766 parameters
	for len(cmds) > 0 {
		part := cmds[:min(chunk, len(cmds))]
		cmds = cmds[len(part):]
		values := make([]string, len(part))
		args := make([]any, 0, 5*len(part))
		for i, c := range part {
			values[i] = "(?, ?, ?, ?, ?)"
			args = append(args, c.RequestID, replicaID, n, c.SlackUser, c.EnvelopeID)
		}
		_, err := d.exec(ctx, d.w, `INSERT INTO request_holders (request_id, replica_id, held_at, slack_user, envelope_id) VALUES `+
			strings.Join(values, ", ")+` ON CONFLICT (request_id) DO NOTHING`, args...)
		if err != nil {
			return fmt.Errorf("hold %d acked commands for %s: %w", len(part), replicaID, err)
		}
	}
	return nil
}

// holdAckedSQL records acked commands on PostgreSQL: the replica, the
// time, then the request IDs, senders and envelope IDs as three arrays.
const holdAckedSQL = `INSERT INTO request_holders (request_id, replica_id, held_at, slack_user, envelope_id)
	SELECT r, $1, $2, u, e FROM unnest($3::text[], $4::text[], $5::text[]) AS c(r, u, e)
	ON CONFLICT (request_id) DO NOTHING`

// holdAckedPostgres is HoldAcked's one statement on PostgreSQL, whatever
// the number of commands: the same text every time (prepared once per
// connection, not once per batch size), the commands in three arrays, one
// round trip on the pool whose commits do not wait for the disk (see
// openAckPool): the ack waits for it.
func (d *sqlDB) holdAckedPostgres(ctx context.Context, replicaID string, at sql.NullInt64, cmds []Acked) error {
	ids, users, envs := make([]string, len(cmds)), make([]string, len(cmds)), make([]string, len(cmds))
	for i, c := range cmds {
		ids[i], users[i], envs[i] = c.RequestID, c.SlackUser, c.EnvelopeID
	}
	if _, err := d.acks.ExecContext(ctx, holdAckedSQL, replicaID, at, ids, users, envs); err != nil {
		return fmt.Errorf("hold %d acked commands for %s: %w", len(cmds), replicaID, err)
	}
	return nil
}

// ReleaseCommand records that the command of request id was handled:
// its request created, or the command refused or answered. It writes the
// row if [sqlDB.HoldAcked] has not yet, so a late HoldAcked finds it there
// and leaves it.
func (d *sqlDB) ReleaseCommand(ctx context.Context, id, replicaID string, at time.Time) error {
	n, err := nanos(at)
	if err != nil || id == "" || replicaID == "" {
		return fmt.Errorf("release command %s: missing request, replica or time (%v)", id, err)
	}
	if _, err := d.exec(ctx, d.w, `INSERT INTO request_holders (request_id, replica_id, held_at, done) VALUES (?, ?, ?, 1)
		ON CONFLICT (request_id) DO UPDATE SET done = 1`, id, replicaID, n); err != nil {
		return fmt.Errorf("release command %s: %w", id, err)
	}
	return nil
}

// Abandoned lists the commands recorded by a replica that has sent no
// heartbeat within ttl before now and that it neither handled nor
// recorded as a request: their senders may have been told "working on
// it", and nothing more will come of it. A command whose envelope came
// again (unacked, so Slack sent it once more, to a replica that recorded
// it too or made its request) is not listed: that one is being handled.
func (d *sqlDB) Abandoned(ctx context.Context, now time.Time, ttl time.Duration) ([]Acked, error) {
	since, err := nanos(now.Add(-ttl))
	if err != nil || ttl <= 0 {
		return nil, fmt.Errorf("abandoned commands: missing time or ttl (%v)", err)
	}
	rows, err := d.r.QueryContext(ctx, d.q(`SELECT h.request_id, h.slack_user FROM request_holders h
		WHERE h.done = 0 AND h.slack_user <> ''
		AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = h.request_id)
		AND NOT EXISTS (SELECT 1 FROM replicas p WHERE p.replica_id = h.replica_id AND p.seen_at > ?)
		AND (h.envelope_id = '' OR NOT EXISTS (SELECT 1 FROM request_holders o
			WHERE o.envelope_id = h.envelope_id AND o.request_id <> h.request_id)
			AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.envelope_id = h.envelope_id))
		ORDER BY h.held_at, h.request_id`), since)
	if err != nil {
		return nil, fmt.Errorf("list abandoned commands: %w", err)
	}
	defer rows.Close()
	var out []Acked
	for rows.Next() {
		var a Acked
		if err := rows.Scan(&a.RequestID, &a.SlackUser); err != nil {
			return nil, fmt.Errorf("list abandoned commands: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ClaimAbandoned claims an abandoned command, so that of several
// replicas exactly one tells its sender: it returns true if the command
// was still abandoned (unhandled, no request) and is now marked handled.
func (d *sqlDB) ClaimAbandoned(ctx context.Context, id string) (bool, error) {
	rows, err := d.exec(ctx, d.w, `UPDATE request_holders SET done = 1 WHERE request_id = ? AND done = 0
		AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = request_holders.request_id)`, id)
	if err != nil {
		return false, fmt.Errorf("claim abandoned command %s: %w", id, err)
	}
	return rows == 1, nil
}
