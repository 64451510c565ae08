package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/storetest"
)

var _ storetest.Store = (*store.SQLite)(nil)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return open(t, filepath.Join(t.TempDir(), "bot.db"))
	})
}

// TestSQLiteShared races two stores on one file, as two processes would.
func TestSQLiteShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (storetest.Store, storetest.Store) {
		path := filepath.Join(t.TempDir(), "bot.db")
		return open(t, path), open(t, path)
	})
}

// open opens the store at path and closes it when the test ends.
func open(t *testing.T, path string) *store.SQLite {
	t.Helper()
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// raw opens a second, plain connection to the file, as an operator's
// sqlite3 shell would.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("sql.Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2031, time.March, 14, 15, 9, 26, 535897932, time.UTC)

func newRequest(user string, state request.State) request.Request {
	id := request.NewID()
	return request.Request{
		ID: id, Token: request.NewToken(), EnvelopeID: "env-" + id, TeamID: "T0TEAM",
		SlackUser: user, IAMUser: "iam-" + user, RequestedBy: user, State: state,
		CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
}

// TestReopen is a restart: everything written before Close is there after
// Open, and the rules still hold.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", path, err)
	}
	pending := newRequest("UPENDING", request.Pending)
	resetting := newRequest("URESET", request.Approved)
	event := request.AuditEvent{Time: t0, RequestID: pending.ID, Action: request.ActionRequested, Actor: "UPENDING"}
	for _, r := range []request.Request{pending, resetting} {
		if _, err := s.CreateRequest(ctx, r, 0); err != nil {
			t.Fatalf("CreateRequest(%s) = %v", r, err)
		}
	}
	resetting, err = s.Move(ctx, resetting.ID, []request.State{request.Approved}, request.Resetting, t0.Add(time.Minute), nil)
	if err != nil {
		t.Fatalf("Move(%s) = %v", resetting.ID, err)
	}
	if err := s.AppendAudit(ctx, event); err != nil {
		t.Fatalf("AppendAudit() = %v", err)
	}
	if _, err := s.ClaimOnce(ctx, "k", t0); err != nil {
		t.Fatalf("ClaimOnce() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	s = open(t, path)
	got, err := s.RequestsInState(ctx, request.Resetting)
	if err != nil || len(got) != 1 || got[0] != resetting {
		t.Errorf("RequestsInState(resetting) after reopen = %v, %v; want [%s]", got, err, resetting)
	}
	if got, err := s.Request(ctx, pending.ID); err != nil || got != pending {
		t.Errorf("Request(%s) after reopen = %v, %v; want %v", pending.ID, got, err, pending)
	}
	if _, err := s.CreateRequest(ctx, newRequest("UPENDING", request.Pending), 0); !errors.Is(err, store.ErrActiveRequest) {
		t.Errorf("CreateRequest(second for UPENDING) after reopen = %v; want ErrActiveRequest", err)
	}
	if events, err := s.Audit(ctx, time.Time{}); err != nil || len(events) != 1 || events[0] != event {
		t.Errorf("Audit() after reopen = %v, %v; want [%v]", events, err, event)
	}
	if sent, err := s.ClaimOnce(ctx, "k", t0); err != nil || sent {
		t.Errorf("ClaimOnce(%q) after reopen = %v, %v; want false, nil", "k", sent, err)
	}
}

// TestMigrations checks that each migration is recorded once, and that a
// binary refuses a database migrated by a newer one.
func TestMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bot.db")
	for range 2 { // the second Open finds nothing to do
		s, err := store.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open(%q) = %v; want nil", path, err)
		}
		s.Close()
	}
	versions, err := store.MigrationVersions("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	want := append([]int{0}, versions...) // goose's own version 0, then ours
	db := raw(t, path)
	if got := appliedVersions(t, db); !slices.Equal(got, want) {
		t.Errorf("applied versions = %v; want %v", got, want)
	}

	if _, err := db.ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", versions[len(versions)-1]+1); err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	db.Close()
	if s, err := store.Open(ctx, path); !errors.Is(err, store.ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open(newer database) = %v; want ErrSchemaTooNew", err)
	}
}

// appliedVersions lists the versions goose recorded in db.
func appliedVersions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id")
	if err != nil {
		t.Fatalf("query goose_db_version: %v", err)
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return versions
}

func TestOpenFails(t *testing.T) {
	dir := t.TempDir()
	readOnly := filepath.Join(dir, "readonly.db")
	s := open(t, readOnly)
	s.Close()
	if err := os.Chmod(readOnly, 0o400); err != nil {
		t.Fatal(err)
	}
	aDir := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(aDir, 0o700); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		path   string
		want   error // nil: any error
		asRoot bool  // whether the case holds when running as root
	}{
		{"missing directory", filepath.Join(dir, "no-such-dir", "bot.db"), fs.ErrNotExist, true},
		{"read-only file", readOnly, fs.ErrPermission, false},
		{"file is a directory", aDir, nil, true},
		{"empty path", "", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.asRoot && os.Geteuid() == 0 {
				t.Skip("root may write to any file")
			}
			s, err := store.Open(t.Context(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil; want an error", tt.path)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open(%q) = %v; want an error wrapping %v", tt.path, err, tt.want)
			}
			t.Logf("Open(%q) = %v", tt.path, err)
		})
	}
}

// TestAuditAppendOnly goes around the store, as an operator or a bug
// might, and finds the audit trail still refuses to change.
func TestAuditAppendOnly(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bot.db")
	s := open(t, path)
	event := request.AuditEvent{Time: t0, RequestID: "RAAAAAAAAA2", Action: request.ActionApproved, Actor: "UADMIN"}
	if err := s.AppendAudit(ctx, event); err != nil {
		t.Fatalf("AppendAudit() = %v", err)
	}

	db := raw(t, path)
	for _, stmt := range []string{
		"UPDATE audit SET actor = 'UMALLORY'",
		"DELETE FROM audit",
	} {
		if _, err := db.ExecContext(ctx, stmt); err == nil {
			t.Errorf("Exec(%q) = nil; want the trigger to refuse it", stmt)
		}
	}
	if events, err := s.Audit(ctx, time.Time{}); err != nil || len(events) != 1 || events[0] != event {
		t.Errorf("Audit() = %v, %v; want [%v]", events, err, event)
	}
}

// TestNoPassword checks that no column could hold a password, and that the
// word does not appear in the database file at all.
func TestNoPassword(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bot.db")
	s := open(t, path)
	r := newRequest("UOWNER", request.Approved)
	if _, err := s.CreateRequest(ctx, r, 0); err != nil {
		t.Fatalf("CreateRequest() = %v", err)
	}
	if _, err := s.Move(ctx, r.ID, []request.State{request.Approved}, request.Resetting, t0, nil); err != nil {
		t.Fatalf("Move() = %v", err)
	}

	for _, dialect := range []string{"sqlite", "postgres"} {
		sources, err := store.MigrationSources(dialect)
		if err != nil || len(sources) == 0 {
			t.Fatalf("MigrationSources(%s) = %d, %v", dialect, len(sources), err)
		}
		for i, m := range sources {
			if strings.Contains(strings.ToLower(m), "password") {
				t.Errorf("%s migration %d mentions a password", dialect, i+1)
			}
		}
	}

	db := raw(t, path)
	rows, err := db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p
		WHERE m.type = 'table'`)
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
	n := 0
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		n++
		if c := strings.ToLower(column); strings.Contains(c, "pass") || strings.Contains(c, "secret") {
			t.Errorf("column %s.%s looks like it holds a password", table, column)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no columns; the check is broken")
	}
	db.Close()

	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "" && !bytes.Contains(b, []byte("CREATE TABLE requests")) {
			t.Fatalf("%s does not hold the schema; the check is broken", path)
		}
		if bytes.Contains(bytes.ToLower(b), []byte("password")) {
			t.Errorf("%s%s contains the word password", path, suffix)
		}
	}
}

// TestFile checks how the file is kept: private, and in WAL mode.
func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	open(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("file mode = %v; want no access for group or others", perm)
	}
	var mode string
	if err := raw(t, path).QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestTwoProcesses opens the file twice, as two bots started by mistake
// would, and races creates for one person through both: the database still
// lets exactly one through, and nobody sees SQLITE_BUSY.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	stores := []*store.SQLite{open(t, path), open(t, path)}
	const n = 20
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			_, err := stores[i%2].CreateRequest(context.Background(), newRequest("UTWICE", request.Pending), 0)
			errs <- err
		}()
	}
	close(start)
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrActiveRequest):
			t.Errorf("CreateRequest() = %v; want nil or ErrActiveRequest", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d creates succeeded; want 1", ok)
	}
}

// TestBusyMix runs writes and reads of every kind at once through one
// store; with one writer connection none of them may fail.
func TestBusyMix(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "bot.db"))
	ctx := t.Context()
	const n = 40
	errs := make(chan error, 3*n)
	for i := range n {
		go func() {
			r := newRequest(fmt.Sprintf("U%03d", i), request.Pending)
			_, err := s.CreateRequest(ctx, r, 0)
			if err == nil {
				_, err = s.Move(ctx, r.ID, []request.State{request.Pending}, request.Approved, t0, nil)
			}
			errs <- err
		}()
		go func() {
			errs <- s.AppendAudit(ctx, request.AuditEvent{Time: t0, Action: request.ActionRequested})
		}()
		go func() {
			_, err := s.RequestsInState(ctx, request.Pending)
			if err == nil {
				err = s.Ping(ctx)
			}
			errs <- err
		}()
	}
	for range 3 * n {
		if err := <-errs; err != nil {
			t.Errorf("concurrent call = %v; want nil", err)
		}
	}
	if got, err := s.RequestsInState(ctx, request.Approved); err != nil || len(got) != n {
		t.Errorf("RequestsInState(approved) = %d requests, %v; want %d", len(got), err, n)
	}
}
