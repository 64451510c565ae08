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

// requestColumns is the column list every request query selects, in the
// order scanRequest reads.
const requestColumns = `id, token, envelope_id, team_id, slack_user, iam_user, requested_by, state,
	approval_channel, approval_ts, decided_by, decided_at, outcome, created_at, updated_at, expires_at,
	account, reason`

// CreateRequest stores a new request r, if its owner may have one now.
//
// r must have an ID, a Token, a SlackUser, an IAMUser and a CreatedAt, and
// must start in [request.Pending] (with an ExpiresAt) or [request.Approved].
// A zero UpdatedAt is stored as CreatedAt. An empty EnvelopeID turns off
// redelivery detection for r.
//
// In one transaction it refuses, returning the request that stands in the
// way: [ErrDuplicate] with the request created from the same envelope;
// [ErrActiveRequest] with the owner's active request in r's account;
// [ErrCooldown] with the owner's last delivered request in r's account,
// when it was delivered less than cooldown before r.CreatedAt (0: no
// cooldown). Each (owner, account) is apart: a request in one account
// neither blocks nor delays one in another. An ID or Token already in
// use is an error that matches none of them.
//
// The database decides, so of any number of concurrent calls for one
// person, from any number of processes, at most one succeeds. The insert
// comes first and the cooldown is read after it in the same transaction:
// on PostgreSQL the unique index on the owner's active request makes an
// insert wait for any transaction still moving the owner's previous
// request out of an active state, so once the insert is through, that
// move is committed and the cooldown read (a fresh READ COMMITTED
// snapshot) sees its delivery. On SQLite the one writer serialises it all.
func (d *sqlDB) CreateRequest(ctx context.Context, r request.Request, cooldown time.Duration) (existing request.Request, err error) {
	if err := validateNew(r); err != nil {
		return request.Request{}, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	if cooldown < 0 {
		return request.Request{}, fmt.Errorf("create request %s: negative cooldown %v", r.ID, cooldown)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	args, err := insertArgs(r)
	if err != nil {
		return request.Request{}, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	// A refused insert whose cause has gone by the time it is looked for
	// (the active request ended in between) is tried again, a few times.
	for range 3 {
		err = d.write(ctx, func(tx *sql.Tx) error {
			existing, err = d.create(ctx, tx, r, cooldown, args)
			return err
		})
		if !errors.Is(err, errRetry) {
			break
		}
	}
	if err != nil {
		if !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrActiveRequest) && !errors.Is(err, ErrCooldown) {
			existing = request.Request{}
		}
		return existing, fmt.Errorf("create request %s for %s: %w", r.ID, r.SlackUser, err)
	}
	return request.Request{}, nil
}

// errRetry means CreateRequest's transaction should run again.
var errRetry = errors.New("insert refused for a reason that has gone; try again")

// create is CreateRequest's transaction.
func (d *sqlDB) create(ctx context.Context, tx *sql.Tx, r request.Request, cooldown time.Duration, args []any) (request.Request, error) {
	// ON CONFLICT DO NOTHING, with no target, covers every unique index
	// and leaves the transaction usable (a unique violation would abort a
	// PostgreSQL transaction).
	n, err := d.exec(ctx, tx, `INSERT INTO requests (`+requestColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return request.Request{}, err
	}
	if n == 0 {
		return d.refused(ctx, tx, r)
	}
	if cooldown == 0 {
		return request.Request{}, nil
	}
	last, err := d.getRequest(ctx, tx, `slack_user = ? AND account = ? AND delivered_at IS NOT NULL AND id <> ?
		ORDER BY delivered_at DESC, id DESC LIMIT 1`, r.SlackUser, r.Account, r.ID)
	if errors.Is(err, ErrNotFound) {
		return request.Request{}, nil
	}
	if err != nil {
		return request.Request{}, err
	}
	// A delivery stamped after r.CreatedAt (clocks of two replicas) counts
	// as within the cooldown.
	if r.CreatedAt.Sub(last.UpdatedAt) < cooldown {
		return last, fmt.Errorf("last delivered at %s: %w", last.UpdatedAt.Format(time.RFC3339Nano), ErrCooldown)
	}
	return request.Request{}, nil
}

// refused finds out which rule refused r's insert.
func (d *sqlDB) refused(ctx context.Context, tx *sql.Tx, r request.Request) (request.Request, error) {
	if r.EnvelopeID != "" {
		existing, err := d.getRequest(ctx, tx, "envelope_id = ?", r.EnvelopeID)
		if err == nil {
			return existing, ErrDuplicate
		}
		if !errors.Is(err, ErrNotFound) {
			return request.Request{}, err
		}
	}
	existing, err := d.getRequest(ctx, tx, "slack_user = ? AND account = ? AND state IN "+placeholders(len(request.ActiveStates())),
		append([]any{r.SlackUser, r.Account}, stateArgs(request.ActiveStates())...)...)
	if err == nil {
		return existing, ErrActiveRequest
	}
	if !errors.Is(err, ErrNotFound) {
		return request.Request{}, err
	}
	if _, err := d.getRequest(ctx, tx, "id = ? OR token = ?", r.ID, r.Token); err == nil {
		return request.Request{}, errors.New("request id or token already in use")
	} else if !errors.Is(err, ErrNotFound) {
		return request.Request{}, err
	}
	return request.Request{}, errRetry
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
		r.ApprovalChannel, r.ApprovalTS, r.DecidedBy, times[0], r.Outcome, times[1], times[2], times[3],
		r.Account, r.Reason}, nil
}

// Request returns the request with the given ID, or [ErrNotFound].
func (d *sqlDB) Request(ctx context.Context, id string) (request.Request, error) {
	r, err := d.getRequest(ctx, d.r, "id = ?", id)
	if err != nil {
		return request.Request{}, fmt.Errorf("get request %s: %w", id, err)
	}
	return r, nil
}

// RequestByToken returns the request whose approval token is token, or
// [ErrNotFound]. The token is not repeated in the error.
func (d *sqlDB) RequestByToken(ctx context.Context, token string) (request.Request, error) {
	if token == "" {
		return request.Request{}, fmt.Errorf("get request by token: %w", ErrNotFound)
	}
	r, err := d.getRequest(ctx, d.r, "token = ?", token)
	if err != nil {
		return request.Request{}, fmt.Errorf("get request by token: %w", err)
	}
	return r, nil
}

// SetApprovalMessage records the channel and timestamp of the approval
// message posted for request id. It changes neither the state nor
// UpdatedAt. It returns [ErrNotFound] if there is no such request.
func (d *sqlDB) SetApprovalMessage(ctx context.Context, id, channel, ts string) error {
	n, err := d.exec(ctx, d.w, "UPDATE requests SET approval_channel = ?, approval_ts = ? WHERE id = ?", channel, ts, id)
	if err != nil {
		return fmt.Errorf("set approval message of request %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("set approval message of request %s: %w", id, ErrNotFound)
	}
	return nil
}

// RequestsInState lists the requests in state, oldest (by CreatedAt) first.
func (d *sqlDB) RequestsInState(ctx context.Context, state request.State) ([]request.Request, error) {
	rs, err := d.listRequests(ctx, d.r, "state = ? ORDER BY created_at, id", string(state))
	if err != nil {
		return nil, fmt.Errorf("list requests in state %s: %w", state, err)
	}
	return rs, nil
}

// ExpiredPending lists the Pending requests whose ExpiresAt is at or before
// now, soonest expiry first.
func (d *sqlDB) ExpiredPending(ctx context.Context, now time.Time) ([]request.Request, error) {
	rs, err := d.listRequests(ctx, d.r, "state = ? AND expires_at <= ? ORDER BY expires_at, id",
		string(request.Pending), queryNanos(now))
	if err != nil {
		return nil, fmt.Errorf("list pending requests expired at %s: %w", now.UTC().Format(time.RFC3339Nano), err)
	}
	return rs, nil
}

// LastDelivered returns when a request of slackUser last moved to
// [request.Delivered], or the zero time if none ever did.
func (d *sqlDB) LastDelivered(ctx context.Context, slackUser string) (time.Time, error) {
	var n sql.NullInt64
	err := d.r.QueryRowContext(ctx,
		d.q("SELECT MAX(delivered_at) FROM requests WHERE slack_user = ?"), slackUser).Scan(&n)
	if err != nil {
		return time.Time{}, fmt.Errorf("last delivery to %s: %w", slackUser, err)
	}
	return fromNanos(n), nil
}

// getRequest returns the one request matching where, or ErrNotFound.
func (d *sqlDB) getRequest(ctx context.Context, q querier, where string, args ...any) (request.Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, d.q("SELECT "+requestColumns+" FROM requests WHERE "+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return request.Request{}, ErrNotFound
	}
	return r, err
}

// listRequests returns every request matching where (which may end in
// ORDER BY).
func (d *sqlDB) listRequests(ctx context.Context, q querier, where string, args ...any) ([]request.Request, error) {
	rows, err := q.QueryContext(ctx, d.q("SELECT "+requestColumns+" FROM requests WHERE "+where), args...)
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
		&r.ApprovalChannel, &r.ApprovalTS, &r.DecidedBy, &decided, &r.Outcome, &created, &updated, &expires,
		&r.Account, &r.Reason)
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

// prefixed returns the comma-separated columns, each with prefix (a table
// alias and a dot).
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
