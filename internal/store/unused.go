package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// latestDelivery is the condition that request r (the alias of the outer
// query) is its IAM user's latest delivery: no other request for that IAM
// user, in the same AWS account, was delivered later (or at the same
// instant with a greater ID).
const latestDelivery = `NOT EXISTS (SELECT 1 FROM requests AS newer
	WHERE newer.iam_user = r.iam_user AND newer.account = r.account AND newer.delivered_at IS NOT NULL
	AND (newer.delivered_at > r.delivered_at OR (newer.delivered_at = r.delivered_at AND newer.id > r.id)))`

// UnusedCandidates lists what the unused-password sweeper may look at:
// for each IAM user only its latest delivered request, and only if it was
// delivered before deliveredBefore and no sweeper has claimed it, oldest
// delivery first. Each one's UpdatedAt is when it was delivered. An older
// delivery is never listed: the password it gave is already replaced by
// the newer one, which the sweeper must not undo.
func (d *sqlDB) UnusedCandidates(ctx context.Context, deliveredBefore time.Time) ([]request.Request, error) {
	rows, err := d.r.QueryContext(ctx, d.q(`SELECT `+prefixed("r.", requestColumns)+` FROM requests AS r
		WHERE r.state = ? AND r.delivered_at IS NOT NULL AND r.delivered_at < ? AND r.unused_claimed_at IS NULL
		AND `+latestDelivery+` ORDER BY r.delivered_at, r.id`), string(request.Delivered), queryNanos(deliveredBefore))
	if err != nil {
		return nil, fmt.Errorf("list unused-password candidates delivered before %s: %w",
			deliveredBefore.UTC().Format(time.RFC3339Nano), err)
	}
	defer rows.Close()
	var rs []request.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list unused-password candidates: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list unused-password candidates: %w", err)
	}
	return rs, nil
}

// ClaimUnusedCheck claims the unused-password check of delivered request
// requestID at at, for one sweeper in one replica. It returns true only if
// the request is still its IAM user's latest delivery and nobody claimed
// it before; the check and the claim are one conditional UPDATE, so a
// newer delivery recorded first, or a second sweeper, makes it false.
func (d *sqlDB) ClaimUnusedCheck(ctx context.Context, requestID string, at time.Time) (bool, error) {
	if requestID == "" || at.IsZero() {
		return false, errors.New("claim unused-password check: missing request or time")
	}
	n, err := nanos(at)
	if err != nil {
		return false, fmt.Errorf("claim unused-password check of %s: %w", requestID, err)
	}
	// The alias r keeps latestDelivery's reference to the row updated.
	rows, err := d.exec(ctx, d.w, `UPDATE requests AS r SET unused_claimed_at = ?
		WHERE r.id = ? AND r.state = ? AND r.delivered_at IS NOT NULL AND r.unused_claimed_at IS NULL AND `+latestDelivery,
		n, requestID, string(request.Delivered))
	if err != nil {
		return false, fmt.Errorf("claim unused-password check of %s: %w", requestID, err)
	}
	return rows == 1, nil
}
