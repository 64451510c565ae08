package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ClaimOnce claims the one-time job identified by key (a reminder, a
// notice) at at. It returns true if key was not claimed before, so that of
// any number of concurrent callers, in any number of replicas, exactly one
// does the job. A claim is never released: a job that fails after its
// claim is not done again.
func (d *sqlDB) ClaimOnce(ctx context.Context, key string, at time.Time) (bool, error) {
	if key == "" || at.IsZero() {
		return false, errors.New("claim once: missing key or time")
	}
	n, err := nanos(at)
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", key, err)
	}
	rows, err := d.exec(ctx, d.w, "INSERT INTO claims (claim_key, claimed_at) VALUES (?, ?) ON CONFLICT (claim_key) DO NOTHING", key, n)
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", key, err)
	}
	return rows == 1, nil
}

// ClaimLease takes or keeps the lease called name for holder until
// now+ttl, for work only one replica may do at a time (a sweeper). It
// returns true if holder has the lease now: it was free, it had expired
// (its holder stopped renewing it, as a dead replica does), or holder held
// it already and has just extended it. It returns false while another
// holder's lease runs.
func (d *sqlDB) ClaimLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || now.IsZero() || ttl <= 0 {
		return false, errors.New("claim lease: missing name, holder, time or ttl")
	}
	times, err := nanosAll(now, now.Add(ttl))
	if err != nil {
		return false, fmt.Errorf("claim lease %q: %w", name, err)
	}
	// One statement, so two replicas claiming at once cannot both win.
	rows, err := d.exec(ctx, d.w, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`, name, holder, times[1], times[0])
	if err != nil {
		return false, fmt.Errorf("claim lease %q for %s: %w", name, holder, err)
	}
	return rows == 1, nil
}

// ReleaseLease gives up holder's lease called name, so another replica
// may take it at once rather than when it expires. Releasing a lease held
// by someone else, or by no one, does nothing.
func (d *sqlDB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := d.exec(ctx, d.w, "DELETE FROM leases WHERE name = ? AND holder = ?", name, holder); err != nil {
		return fmt.Errorf("release lease %q for %s: %w", name, holder, err)
	}
	return nil
}

// Heartbeat records that replicaID is alive at now and returns how many
// replicas, itself included, have sent a heartbeat within ttl before now
// (strictly after now-ttl), so each can pace itself at its share of
// Slack's rate limits. Replicas silent for longer are forgotten.
func (d *sqlDB) Heartbeat(ctx context.Context, replicaID string, now time.Time, ttl time.Duration) (live int, err error) {
	if replicaID == "" || now.IsZero() || ttl <= 0 {
		return 0, errors.New("heartbeat: missing replica, time or ttl")
	}
	times, err := nanosAll(now, now.Add(-ttl))
	if err != nil {
		return 0, fmt.Errorf("heartbeat of %s: %w", replicaID, err)
	}
	err = d.write(ctx, func(tx *sql.Tx) error {
		if _, err := d.exec(ctx, tx, `INSERT INTO replicas (replica_id, seen_at) VALUES (?, ?)
			ON CONFLICT (replica_id) DO UPDATE SET seen_at = excluded.seen_at
			WHERE excluded.seen_at > replicas.seen_at`, replicaID, times[0]); err != nil {
			return err
		}
		if _, err := d.exec(ctx, tx, "DELETE FROM replicas WHERE seen_at <= ? AND replica_id <> ?", times[1], replicaID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, d.q("SELECT COUNT(*) FROM replicas WHERE seen_at > ?"), times[1]).Scan(&live)
	})
	if err != nil {
		return 0, fmt.Errorf("heartbeat of %s: %w", replicaID, err)
	}
	return live, nil
}
