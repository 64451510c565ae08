package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// The recording baseline (-baseline-records) is the bare client with the
// bot's guarantee on PostgreSQL: no command acked and then lost with its
// process. Each client records every command before acking it, as the bot
// does: one insert for whatever queued while the previous one was in
// flight, on connections whose commits do not wait for the disk, prepared
// before the burst. It is the least a program with that guarantee must do,
// so the bot's ack p99 over this one's is what the bot adds to it.

// recordingTableSQL makes the recording baseline's table, in the run's
// fresh schema.
const recordingTableSQL = `CREATE TABLE baseline_acks (envelope_id text PRIMARY KEY, slack_user text NOT NULL)`

// recordSQL records a batch of commands: their envelopes and senders as
// two arrays, one statement whatever the batch's size.
const recordSQL = `INSERT INTO baseline_acks (envelope_id, slack_user)
	SELECT e, u FROM unnest($1::text[], $2::text[]) AS c(e, u) ON CONFLICT (envelope_id) DO NOTHING`

// recordConns is the recording baseline's connections, as many as the
// bot's ack pool.
const recordConns = 2

// recordedAcks records commands before acking them.
type recordedAcks struct {
	db  *sql.DB
	ack func(socketmode.Request)

	mu      sync.Mutex
	pending []socketmode.Request
	users   []string
	wake    chan struct{}
}

// openRecordedAcks opens dbURL's server with asynchronous commits and
// prepares the insert on each connection.
func openRecordedAcks(ctx context.Context, dbURL string, ack func(socketmode.Request)) (*recordedAcks, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("the recording baseline's database URL: %w", err)
	}
	cfg.RuntimeParams["synchronous_commit"] = "off"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(recordConns)
	db.SetMaxIdleConns(recordConns)
	conns := make([]*sql.Conn, 0, recordConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range recordConns {
		c, err := db.Conn(ctx)
		if err == nil {
			conns = append(conns, c)
			_, err = c.ExecContext(ctx, recordSQL, []string{}, []string{})
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare the recording baseline's insert: %w", err)
		}
	}
	return &recordedAcks{db: db, ack: ack, wake: make(chan struct{}, 1)}, nil
}

// add queues a command for its record and ack.
func (r *recordedAcks) add(req socketmode.Request, user string) {
	r.mu.Lock()
	r.pending, r.users = append(r.pending, req), append(r.users, user)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default: // already woken
	}
}

// run records and acks what has queued, one batch at a time, until ctx
// ends or a record fails (then nothing more is acked: an ack without its
// record is what this baseline exists not to do).
func (r *recordedAcks) run(ctx context.Context) error {
	defer r.db.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		}
		r.mu.Lock()
		batch, users := r.pending, r.users
		r.pending, r.users = nil, nil
		r.mu.Unlock()
		envs := make([]string, len(batch))
		for i, req := range batch {
			envs[i] = req.EnvelopeID
		}
		if _, err := r.db.ExecContext(ctx, recordSQL, envs, users); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("record %d commands: %w", len(batch), err)
		}
		for _, req := range batch {
			r.ack(req)
		}
	}
}

// slashUser is the sender of a slash command's event; "" for any other.
func slashUser(evt socketmode.Event) string {
	if c, ok := evt.Data.(slack.SlashCommand); ok {
		return c.UserID
	}
	return ""
}
