package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// TestUpgradeLegacy opens a file made by the hand-written migrator that
// came before goose, with a request of each kind in it: everything is
// still there, goose takes over at that migrator's version, the old
// sweeper's claims carry over, and an older binary would now refuse the
// file.
func TestUpgradeLegacy(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bot.db")
	schema, err := os.ReadFile(filepath.Join("testdata", "legacy-v2.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db := raw(t, path)
	if _, err := db.ExecContext(ctx, string(schema)); err != nil {
		t.Fatalf("make the old schema: %v", err)
	}
	n := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO requests VALUES ('RRESETTING2', 'T1', 'env1', 'T0TEAM', 'URESET', 'iam-reset', 'URESET', 'resetting',
			'', '', '', NULL, '', ?, ?, NULL, NULL)`, []any{n(0), n(time.Minute)}},
		{`INSERT INTO requests VALUES ('RSWEPTSWEP2', 'T2', 'env2', 'T0TEAM', 'USWEPT', 'iam-swept', 'USWEPT', 'delivered',
			'', '', '', NULL, 'delivered', ?, ?, NULL, ?)`, []any{n(0), n(time.Minute), n(time.Minute)}},
		{`INSERT INTO requests VALUES ('RDELIVERED2', 'T3', NULL, 'T0TEAM', 'UDELIV', 'iam-deliv', 'UDELIV', 'delivered',
			'', '', '', NULL, 'delivered', ?, ?, NULL, ?)`, []any{n(0), n(2 * time.Minute), n(2 * time.Minute)}},
		{"INSERT INTO reminders VALUES ('expire-unused/RSWEPTSWEP2', ?)", []any{n(time.Hour)}},
		{"INSERT INTO reminders VALUES ('reminder:iam-deliv:2031-04-01:3', ?)", []any{n(time.Hour)}},
		{"INSERT INTO audit (at, request_id, action, actor, target, iam_user, outcome) VALUES (?, 'RSWEPTSWEP2', 'delivered', '', '', '', '')",
			[]any{n(time.Minute)}},
		{"INSERT INTO dm_channels VALUES ('T0TEAM', 'USWEPT', 'D1', ?)", []any{n(0)}},
	} {
		if _, err := db.ExecContext(ctx, stmt.q, stmt.args...); err != nil {
			t.Fatalf("Exec(%q) = %v", stmt.q, err)
		}
	}
	db.Close()

	for range 2 { // the second Open finds the file adopted already
		s := open(t, path)
		if got, err := s.RequestsInState(ctx, request.Resetting); err != nil || !slices.Equal(ids(got), []string{"RRESETTING2"}) {
			t.Errorf("RequestsInState(resetting) = %v, %v; want [RRESETTING2]", ids(got), err)
		}
		if last, err := s.LastDelivered(ctx, "UDELIV"); err != nil || !last.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("LastDelivered(UDELIV) = %v, %v; want %v", last, err, t0.Add(2*time.Minute))
		}
		// The old sweeper claimed RSWEPTSWEP2; RDELIVERED2 is still to check.
		if got, err := s.UnusedCandidates(ctx, t0.Add(time.Hour)); err != nil || !slices.Equal(ids(got), []string{"RDELIVERED2"}) {
			t.Errorf("UnusedCandidates() = %v, %v; want [RDELIVERED2]", ids(got), err)
		}
		if first, err := s.ClaimOnce(ctx, "reminder:iam-deliv:2031-04-01:3", t0); err != nil || first {
			t.Errorf("ClaimOnce(a reminder sent before the upgrade) = %v, %v; want false", first, err)
		}
		if events, err := s.Audit(ctx, time.Time{}); err != nil || len(events) != 1 {
			t.Errorf("Audit() = %v, %v; want the one event", events, err)
		}
		if id, err := s.DMChannel(ctx, "T0TEAM", "USWEPT"); err != nil || id != "D1" {
			t.Errorf("DMChannel() = %q, %v; want D1", id, err)
		}
		if _, err := s.CreateRequest(ctx, newRequest("URESET", request.Pending), 0); !errors.Is(err, store.ErrActiveRequest) {
			t.Errorf("CreateRequest(URESET) = %v; want ErrActiveRequest", err)
		}
		s.Close()
	}

	db = raw(t, path)
	versions, err := store.MigrationVersions("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := appliedVersions(t, db), append([]int{0}, versions...); !slices.Equal(got, want) {
		t.Errorf("applied versions = %v; want %v", got, want)
	}
	// The old migrator reads MAX(version) and refuses anything past its 2.
	var old int
	if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&old); err != nil || old <= 2 {
		t.Errorf("schema_migrations is at %d, %v; want past 2, so an older binary refuses the file", old, err)
	}
}

// TestUpgradeLegacyTooNew is a file from a binary newer than the old
// migrator that goose has never seen: refused, not adopted.
func TestUpgradeLegacyTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	schema, err := os.ReadFile(filepath.Join("testdata", "legacy-v2.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db := raw(t, path)
	if _, err := db.ExecContext(t.Context(), string(schema)+"INSERT INTO schema_migrations (version) VALUES (7);"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := store.Open(t.Context(), path); !errors.Is(err, store.ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open() = %v; want ErrSchemaTooNew", err)
	}
}

// ids returns the IDs of rs.
func ids(rs []request.Request) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
