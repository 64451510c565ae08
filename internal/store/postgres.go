package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// Postgres is the store on a PostgreSQL database, shared by any number of
// replicas of the bot. It is safe for concurrent use.
//
// It goes through database/sql with pgx's stdlib driver rather than
// pgxpool: goose migrates through a *sql.DB, and with one pool for both,
// PostgreSQL and SQLite share every query and transaction of this package
// (sqlDB), so the two stores cannot drift apart. database/sql also drops
// a broken connection and dials a new one by itself, so a replica that
// loses the database recovers without a restart.
type Postgres struct {
	sqlDB
}

// maxPostgresConns bounds each replica's connections: enough for the
// bot's concurrent requests (each holds one only for a statement or a
// short transaction), few enough that several replicas fit under a
// server's default max_connections of 100.
const maxPostgresConns = 16

// OpenPostgres connects to the PostgreSQL database at url and applies any
// migrations it lacks, taking turns with other replicas starting at the
// same moment. Whatever url leaves out (the password, above all) comes
// from the libpq environment variables and files pgx reads: PGPASSWORD,
// PGPASSFILE, PGSSLMODE and the others. The database must exist and the
// role must be allowed to create tables in it (own it). It fails with
// [ErrSchemaTooNew] if a newer binary has migrated the database.
//
// Errors and logs name the database by host, port, database and user,
// never by url, so a password in it never prints.
func OpenPostgres(ctx context.Context, url string, logger *slog.Logger) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password; this adds nothing of url.
		return nil, fmt.Errorf("open store: parse the PostgreSQL URL: %w", err)
	}
	s := &Postgres{sqlDB{name: describe(cfg), pg: true}}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxPostgresConns)
	db.SetMaxIdleConns(maxPostgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.w, s.r = db, db
	s.acks = openAckPool(cfg)
	if err := db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", s.name, err)
	}
	if err := migrate(ctx, db, goose.DialectPostgres); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", s.name, err)
	}
	s.warmAckPool(ctx)
	if logger != nil {
		logger.Info("store opened", slog.String("store", s.name))
	}
	return s, nil
}

// ackConns bounds the connections that record acked commands: the bot
// writes one batch at a time, and a second lets the next batch start
// while a stalled one finishes.
const ackConns = 2

// openAckPool opens the pool that records acked commands, on the same
// server as cfg, its commits asynchronous (synchronous_commit off): the
// record is there for another replica if this one dies, which the server
// outlives; only a crash of the server itself within a fraction of a
// second could lose it, and the replica that acked would still do the
// work. Everything else commits as the server is set to.
//
// Its connections stay open while idle, and warmAckPool opens them at
// start: an ack waits for this pool, and the first burst after a quiet
// hour should not wait for a connection to be dialled and a statement
// prepared as well.
func openAckPool(cfg *pgx.ConnConfig) *sql.DB {
	ack := cfg.Copy()
	ack.RuntimeParams["synchronous_commit"] = "off"
	db := stdlib.OpenDB(*ack)
	db.SetMaxOpenConns(ackConns)
	db.SetMaxIdleConns(ackConns)
	return db
}

// warmAckPool opens every connection of the ack pool and prepares the
// statement that records acked commands on each (recording none). A
// failure is no failure to start: the pool dials again when used.
func (s *Postgres) warmAckPool(ctx context.Context) {
	conns := make([]*sql.Conn, 0, ackConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range ackConns {
		c, err := s.acks.Conn(ctx)
		if err != nil {
			return
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, holdAckedSQL, "", sql.NullInt64{}, []string{}, []string{}, []string{}); err != nil {
			return
		}
	}
}

// describe names the database without the password: postgres://user@host:port/database.
func describe(cfg *pgx.ConnConfig) string {
	return "postgres://" + cfg.User + "@" + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
}

// Close closes the store's connections; it must not be used afterwards.
func (s *Postgres) Close() error {
	if err := errors.Join(s.w.Close(), s.acks.Close()); err != nil {
		return fmt.Errorf("close store %s: %w", s.name, err)
	}
	return nil
}

// Ping reports whether the database answers, for a readiness probe.
func (s *Postgres) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping store %s: %w", s.name, err)
	}
	return nil
}

// String names the database without its password.
func (s *Postgres) String() string { return s.name }
