package store_test

import (
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/pgtest"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/storetest"
)

var _ storetest.Store = (*store.Postgres)(nil)

// openPG opens a store on url and closes it when the test ends.
func openPG(t *testing.T, url string) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(t.Context(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("OpenPostgres() = %v; want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgres(t *testing.T) {
	pgtest.DSN(t) // skips the whole suite here when there is no server
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openPG(t, pgtest.Schema(t))
	})
}

// TestPostgresShared races two pools on one database, as two replicas.
func TestPostgresShared(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunShared(t, func(t *testing.T) (storetest.Store, storetest.Store) {
		url := pgtest.Schema(t)
		return openPG(t, url), openPG(t, url)
	})
}

// TestPostgresMigrations starts several replicas on an empty database at
// once: they take turns, every one opens, the schema is migrated once, and
// a database from a newer binary is refused.
func TestPostgresMigrations(t *testing.T) {
	url := pgtest.Schema(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := store.OpenPostgres(t.Context(), url, nil)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("OpenPostgres by replica %d = %v; want nil", i, err)
		}
	}

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	versions, err := store.MigrationVersions("postgres")
	if err != nil {
		t.Fatal(err)
	}
	last := versions[len(versions)-1]
	var n, latest int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*), MAX(version_id) FROM goose_db_version").Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	if n != len(versions)+1 || latest != last {
		t.Errorf("goose_db_version has %d rows up to %d; want %d up to %d", n, latest, len(versions)+1, last)
	}

	if _, err := db.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)",
		last+1); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenPostgres(t.Context(), url, nil); !errors.Is(err, store.ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Errorf("OpenPostgres(newer database) = %v; want ErrSchemaTooNew", err)
	}
}

// TestPostgresAuditAppendOnly goes around the store, as an operator with
// psql might, and finds the audit trail still refuses to change.
func TestPostgresAuditAppendOnly(t *testing.T) {
	url := pgtest.Schema(t)
	s := openPG(t, url)
	event := request.AuditEvent{Time: t0, RequestID: "RAAAAAAAAA2", Action: request.ActionApproved, Actor: "UADMIN"}
	if err := s.AppendAudit(t.Context(), event); err != nil {
		t.Fatalf("AppendAudit() = %v", err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{"UPDATE audit SET actor = 'UMALLORY'", "DELETE FROM audit", "TRUNCATE audit"} {
		if _, err := db.ExecContext(t.Context(), stmt); err == nil {
			t.Errorf("Exec(%q) = nil; want the trigger to refuse it", stmt)
		}
	}
	if events, err := s.Audit(t.Context(), time.Time{}); err != nil || len(events) != 1 || events[0] != event {
		t.Errorf("Audit() = %v, %v; want [%v]", events, err, event)
	}
}

// TestPostgresErrorsHideThePassword needs no server: nothing listens on
// port 1, and the error must name the database without the password.
func TestPostgresErrorsHideThePassword(t *testing.T) {
	const secret = "pw-Zx81-never-print"
	for _, url := range []string{
		"postgres://bot:" + secret + "@127.0.0.1:1/awsreset?sslmode=disable&connect_timeout=5",
		"postgres://bot:" + secret + "@127.0.0.1:1/awsreset?sslmode=bogus",
	} {
		s, err := store.OpenPostgres(t.Context(), url, nil)
		if err == nil {
			s.Close()
			t.Fatalf("OpenPostgres(port 1) = nil; want an error")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("OpenPostgres() error shows the password: %v", err)
		}
	}
}

// Acked commands are recorded on a pool of their own, opened at start,
// whose commits do not wait for the disk; everything else commits as the
// server is set to.
func TestPostgresAckPool(t *testing.T) {
	s := openPG(t, pgtest.Schema(t))
	main, acks, open, err := store.PoolSettings(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	if acks != "off" || main == "off" {
		t.Errorf("synchronous_commit: main pool %q, ack pool %q; want the server's (not off) and off", main, acks)
	}
	if open != 2 {
		t.Errorf("ack pool connections open after start = %d; want 2 (opened and prepared at start)", open)
	}
}
