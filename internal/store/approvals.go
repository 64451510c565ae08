package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// Tally is where a request's approvals stand after an Approve.
type Tally struct {
	// Request is the request as it now is: approved if this approval was
	// the last one needed, else still pending.
	Request request.Request
	// Approvers are those who approved it so far, first first.
	Approvers []string
	// Counted is false when approver had approved it already: the same
	// approver twice counts once.
	Counted bool
}

// Approve records approver's approval of the pending request id, and
// counts, in the same transaction that holds the request's row: so two
// clicks at the same instant, on any replicas, count right. When need
// distinct approvers have approved, the request moves to approved, decided
// by the approver whose approval completed it at now, with expiresAt (the
// owner's time to ask for the password).
//
// If the request is not pending, Approve records nothing and returns the
// current request with an error wrapping [ErrConflict]; [ErrNotFound] if
// there is none.
func (d *sqlDB) Approve(ctx context.Context, id, approver string, now time.Time, need int, expiresAt time.Time) (Tally, error) {
	if approver == "" || now.IsZero() || need < 1 {
		return Tally{}, errors.New("approve: missing approver, time or count")
	}
	times, err := nanosAll(now, expiresAt)
	if err != nil {
		return Tally{}, fmt.Errorf("approve request %s: %w", id, err)
	}
	var t Tally
	err = d.write(ctx, func(tx *sql.Tx) error {
		cur, err := d.getRequest(ctx, tx, "id = ?"+d.forUpdate(), id)
		if err != nil {
			return err
		}
		t.Request = cur
		if cur.State != request.Pending {
			return fmt.Errorf("it is %s: %w", cur.State, ErrConflict)
		}
		n, err := d.exec(ctx, tx, `INSERT INTO approvals (request_id, approver, approved_at) VALUES (?, ?, ?)
			ON CONFLICT (request_id, approver) DO NOTHING`, id, approver, times[0])
		if err != nil {
			return err
		}
		t.Counted = n == 1
		if t.Approvers, err = d.approvers(ctx, tx, id); err != nil {
			return err
		}
		if len(t.Approvers) < need {
			return nil
		}
		n, err = d.exec(ctx, tx, `UPDATE requests SET state = ?, decided_by = ?, decided_at = ?, updated_at = ?, expires_at = ?
			WHERE id = ? AND state = ?`, string(request.Approved), approver, times[0], times[0], times[1], id, string(request.Pending))
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("it left pending: %w", ErrConflict)
		}
		t.Request.State, t.Request.DecidedBy = request.Approved, approver
		t.Request.DecidedAt, t.Request.UpdatedAt, t.Request.ExpiresAt = fromNanos(times[0]), fromNanos(times[0]), fromNanos(times[1])
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrConflict) {
			t = Tally{}
		}
		return t, fmt.Errorf("approve request %s: %w", id, err)
	}
	return t, nil
}

// Approvals lists who approved request id so far, first first.
func (d *sqlDB) Approvals(ctx context.Context, id string) ([]string, error) {
	a, err := d.approvers(ctx, d.r, id)
	if err != nil {
		return nil, fmt.Errorf("approvals of request %s: %w", id, err)
	}
	return a, nil
}

func (d *sqlDB) approvers(ctx context.Context, q querier, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx, d.q("SELECT approver FROM approvals WHERE request_id = ? ORDER BY approved_at, approver"), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// LastReset returns slackUser's latest delivered reset of iamUser in the
// AWS account ("" is the bot's own; the same name may be another user in
// another account), the name compared as IAM does, without case, or
// [ErrNotFound]. Its UpdatedAt is when it was delivered.
func (d *sqlDB) LastReset(ctx context.Context, slackUser, account, iamUser string) (request.Request, error) {
	r, err := d.getRequest(ctx, d.r, "slack_user = ? AND account = ? AND LOWER(iam_user) = LOWER(?) AND delivered_at IS NOT NULL ORDER BY delivered_at DESC LIMIT 1",
		slackUser, account, iamUser)
	if err != nil {
		return request.Request{}, fmt.Errorf("last reset of %s in account %q for %s: %w", iamUser, account, slackUser, err)
	}
	return r, nil
}
