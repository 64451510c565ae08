package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// AppendAudit adds e to the audit trail. e needs a Time and an Action. The
// trail is append-only: this package has no way to change or remove an
// event, and database triggers refuse an UPDATE or DELETE from anywhere
// else.
func (d *sqlDB) AppendAudit(ctx context.Context, e request.AuditEvent) error {
	if e.Time.IsZero() || e.Action == "" {
		return fmt.Errorf("append audit event %q for %q: missing time or action", e.Action, e.RequestID)
	}
	at, err := nanos(e.Time)
	if err != nil {
		return fmt.Errorf("append audit event %s for %q: %w", e.Action, e.RequestID, err)
	}
	_, err = d.w.ExecContext(ctx, d.q(`INSERT INTO audit (at, request_id, action, actor, target, iam_user, outcome, account, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), at, e.RequestID, e.Action, e.Actor, e.Target, e.IAMUser, e.Outcome, e.Account, e.Reason)
	if err != nil {
		return fmt.Errorf("append audit event %s for %q: %w", e.Action, e.RequestID, err)
	}
	return nil
}

// Audit returns the events whose Time is at or after since, oldest first;
// events with the same Time come in the order they were appended.
func (d *sqlDB) Audit(ctx context.Context, since time.Time) ([]request.AuditEvent, error) {
	events, err := d.audit(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("read audit since %s: %w", since.UTC().Format(time.RFC3339Nano), err)
	}
	return events, nil
}

func (d *sqlDB) audit(ctx context.Context, since time.Time) ([]request.AuditEvent, error) {
	rows, err := d.r.QueryContext(ctx, d.q(`SELECT at, request_id, action, actor, target, iam_user, outcome, account, reason
		FROM audit WHERE at >= ? ORDER BY at, seq`), queryNanos(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []request.AuditEvent
	for rows.Next() {
		var (
			e  request.AuditEvent
			at int64
		)
		if err := rows.Scan(&at, &e.RequestID, &e.Action, &e.Actor, &e.Target, &e.IAMUser, &e.Outcome, &e.Account, &e.Reason); err != nil {
			return nil, err
		}
		e.Time = time.Unix(0, at).UTC()
		events = append(events, e)
	}
	return events, rows.Err()
}
