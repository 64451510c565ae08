package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// requestColumns is the column list every request query selects, in the
// order scanRequest reads.
const requestColumns = `id, token, envelope_id, team_id, slack_user, iam_user, requested_by, state,
	approval_channel, approval_ts, decided_by, decided_at, outcome, created_at, updated_at, expires_at`

// CreateRequest stores a new request r.
//
// r must have an ID, a Token, a SlackUser, an IAMUser and a CreatedAt, and
// must start in [request.Pending] (with an ExpiresAt) or [request.Approved].
// A zero UpdatedAt is stored as CreatedAt. An empty EnvelopeID turns off
// redelivery detection for r.
//
// The database itself enforces uniqueness, so of two concurrent calls for
// one person exactly one succeeds. On [ErrDuplicate] existing is the request
// created from the same envelope; on [ErrActiveRequest] it is the owner's
// active request. An ID or Token already in use is an error that matches
// neither.
func (s *SQLite) CreateRequest(ctx context.Context, r request.Request) (existing request.Request, err error) {
	if err := validateNew(r); err != nil {
		return request.Request{}, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	args, err := insertArgs(r)
	if err != nil {
		return request.Request{}, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO requests (`+requestColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err == nil || !isUniqueViolation(err) {
			return err
		}
		// The insert was refused; find out which rule refused it. This runs
		// in the same write transaction, so the answer cannot change under us.
		if r.EnvelopeID != "" {
			existing, err = getRequest(ctx, tx, "envelope_id = ?", r.EnvelopeID)
			if err == nil {
				return ErrDuplicate
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		existing, err = getRequest(ctx, tx, "slack_user = ? AND state IN "+placeholders(len(request.ActiveStates())),
			append([]any{r.SlackUser}, stateArgs(request.ActiveStates())...)...)
		if err == nil {
			return ErrActiveRequest
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		return errors.New("request id or token already in use")
	})
	if err != nil {
		if !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrActiveRequest) {
			existing = request.Request{}
		}
		return existing, fmt.Errorf("create request %s for %s: %w", r.ID, r.SlackUser, err)
	}
	return request.Request{}, nil
}

// validateNew rejects a request that could not be stored sensibly, before
// the database sees it.
func validateNew(r request.Request) error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"ID", r.ID}, {"Token", r.Token}, {"SlackUser", r.SlackUser}, {"IAMUser", r.IAMUser},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if r.CreatedAt.IsZero() {
		missing = append(missing, "CreatedAt")
	}
	if r.State == request.Pending && r.ExpiresAt.IsZero() {
		missing = append(missing, "ExpiresAt")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if r.State != request.Pending && r.State != request.Approved {
		return fmt.Errorf("a new request starts in %s or %s, not %q", request.Pending, request.Approved, r.State)
	}
	return nil
}

// insertArgs returns r's values in requestColumns order.
func insertArgs(r request.Request) ([]any, error) {
	times, err := nanosAll(r.DecidedAt, r.CreatedAt, r.UpdatedAt, r.ExpiresAt)
	if err != nil {
		return nil, err
	}
	var envelope sql.NullString
	if r.EnvelopeID != "" {
		envelope = sql.NullString{String: r.EnvelopeID, Valid: true}
	}
	return []any{r.ID, r.Token, envelope, r.TeamID, r.SlackUser, r.IAMUser, r.RequestedBy, string(r.State),
		r.ApprovalChannel, r.ApprovalTS, r.DecidedBy, times[0], r.Outcome, times[1], times[2], times[3]}, nil
}

// Request returns the request with the given ID, or [ErrNotFound].
func (s *SQLite) Request(ctx context.Context, id string) (request.Request, error) {
	r, err := getRequest(ctx, s.r, "id = ?", id)
	if err != nil {
		return request.Request{}, fmt.Errorf("get request %s: %w", id, err)
	}
	return r, nil
}

// RequestByToken returns the request whose approval token is token, or
// [ErrNotFound]. The token is not repeated in the error.
func (s *SQLite) RequestByToken(ctx context.Context, token string) (request.Request, error) {
	if token == "" {
		return request.Request{}, fmt.Errorf("get request by token: %w", ErrNotFound)
	}
	r, err := getRequest(ctx, s.r, "token = ?", token)
	if err != nil {
		return request.Request{}, fmt.Errorf("get request by token: %w", err)
	}
	return r, nil
}

// SetApprovalMessage records the channel and timestamp of the approval
// message posted for request id. It changes neither the state nor
// UpdatedAt. It returns [ErrNotFound] if there is no such request.
func (s *SQLite) SetApprovalMessage(ctx context.Context, id, channel, ts string) error {
	res, err := s.w.ExecContext(ctx,
		"UPDATE requests SET approval_channel = ?, approval_ts = ? WHERE id = ?", channel, ts, id)
	if err != nil {
		return fmt.Errorf("set approval message of request %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("set approval message of request %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("set approval message of request %s: %w", id, ErrNotFound)
	}
	return nil
}

// RequestsInState lists the requests in state, oldest (by CreatedAt) first.
func (s *SQLite) RequestsInState(ctx context.Context, state request.State) ([]request.Request, error) {
	rs, err := listRequests(ctx, s.r, "state = ? ORDER BY created_at, id", string(state))
	if err != nil {
		return nil, fmt.Errorf("list requests in state %s: %w", state, err)
	}
	return rs, nil
}

// ExpiredPending lists the Pending requests whose ExpiresAt is at or before
// now, soonest expiry first.
func (s *SQLite) ExpiredPending(ctx context.Context, now time.Time) ([]request.Request, error) {
	rs, err := listRequests(ctx, s.r, "state = ? AND expires_at <= ? ORDER BY expires_at, id",
		string(request.Pending), queryNanos(now))
	if err != nil {
		return nil, fmt.Errorf("list pending requests expired at %s: %w", now.UTC().Format(time.RFC3339Nano), err)
	}
	return rs, nil
}

// LastDelivered returns when a request of slackUser last moved to
// [request.Delivered], or the zero time if none ever did.
func (s *SQLite) LastDelivered(ctx context.Context, slackUser string) (time.Time, error) {
	var n sql.NullInt64
	err := s.r.QueryRowContext(ctx,
		"SELECT MAX(delivered_at) FROM requests WHERE slack_user = ?", slackUser).Scan(&n)
	if err != nil {
		return time.Time{}, fmt.Errorf("last delivery to %s: %w", slackUser, err)
	}
	return fromNanos(n), nil
}

// querier is what the read helpers need from *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getRequest returns the one request matching where, or ErrNotFound.
func getRequest(ctx context.Context, q querier, where string, args ...any) (request.Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, "SELECT "+requestColumns+" FROM requests WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return request.Request{}, ErrNotFound
	}
	return r, err
}

// listRequests returns every request matching where (which may end in
// ORDER BY).
func listRequests(ctx context.Context, q querier, where string, args ...any) ([]request.Request, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+requestColumns+" FROM requests WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []request.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// scanRequest reads one row of requestColumns.
func scanRequest(row interface{ Scan(...any) error }) (request.Request, error) {
	var (
		r                                  request.Request
		envelope                           sql.NullString
		state                              string
		decided, created, updated, expires sql.NullInt64
	)
	err := row.Scan(&r.ID, &r.Token, &envelope, &r.TeamID, &r.SlackUser, &r.IAMUser, &r.RequestedBy, &state,
		&r.ApprovalChannel, &r.ApprovalTS, &r.DecidedBy, &decided, &r.Outcome, &created, &updated, &expires)
	if err != nil {
		return request.Request{}, err
	}
	r.EnvelopeID = envelope.String
	r.State = request.State(state)
	r.DecidedAt = fromNanos(decided)
	r.CreatedAt = fromNanos(created)
	r.UpdatedAt = fromNanos(updated)
	r.ExpiresAt = fromNanos(expires)
	return r, nil
}

// isUniqueViolation reports whether err is SQLite refusing a row for a
// duplicate key, by result code rather than by message.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// placeholders returns "(?, ?, …)" with n marks.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func stateArgs(states []request.State) []any {
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = string(s)
	}
	return args
}
