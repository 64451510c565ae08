package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// TestOpenStore checks which database each setting chooses.
func TestOpenStore(t *testing.T) {
	ctx := t.Context()
	cfg := config.Default()
	cfg.Store.Path = filepath.Join(t.TempDir(), "bot.db")

	st, err := openStore(ctx, cfg, "", nil)
	if err != nil {
		t.Fatalf("openStore(nothing set) = %v", err)
	}
	if _, ok := st.(*store.SQLite); !ok {
		t.Errorf("openStore(nothing set) = %T; want *store.SQLite", st)
	}
	st.Close()

	// DATABASE_URL wins over store.postgres_url; nothing listens on port 1.
	const secret = "pw-K3-never-print"
	cfg.Store.PostgresURL = "postgres://bot@127.0.0.1:2/other?sslmode=disable"
	if st, err := openStore(ctx, cfg, "postgres://bot:"+secret+"@127.0.0.1:1/awsreset?sslmode=disable", nil); err == nil {
		st.Close()
		t.Fatal("openStore(DATABASE_URL to port 1) = nil; want an error")
	} else if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("openStore(DATABASE_URL to port 1) = %v; want an error naming 127.0.0.1:1 without the password", err)
	}

	dsn := os.Getenv("TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("no PostgreSQL (TEST_POSTGRES_DSN) for the rest; the store package's tests cover it")
	}
	admin, err := sql.Open("pgx", dsn) // the driver the store registers
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := "bot_open_store_" + strings.ToLower(rand.Text()) // its own, so runs never collide
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err = openStore(ctx, cfg, u.String(), nil)
	if err != nil {
		t.Fatalf("openStore(TEST_POSTGRES_DSN) = %v", err)
	}
	defer st.Close()
	if _, ok := st.(*store.Postgres); !ok {
		t.Errorf("openStore(TEST_POSTGRES_DSN) = %T; want *store.Postgres", st)
	}
	if err := st.Ping(ctx); err != nil || !strings.HasPrefix(st.String(), "postgres://") {
		t.Errorf("Ping() = %v; String() = %q", err, st.String())
	}
}

// TestAuditCommandDatabaseURL runs bot audit with DATABASE_URL set: it
// goes to PostgreSQL, and its error never shows the password.
func TestAuditCommandDatabaseURL(t *testing.T) {
	const secret = "pw-A9-never-print"
	cfg := writeConfig(t, "users:\n  - slack_user: U0ALICE001\n    iam_user: alice\n")
	env := map[string]string{"DATABASE_URL": "postgres://bot:" + secret + "@127.0.0.1:1/awsreset?sslmode=disable"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"audit", "--config", cfg}, &out, &errOut, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("audit with DATABASE_URL to port 1 = nil; want an error")
	}
	if all := err.Error() + out.String() + errOut.String(); strings.Contains(all, secret) {
		t.Errorf("audit printed the password: %s", all)
	}
}

// TestCheckRefusesPasswordInURL: bot check names the field and never
// prints the password.
func TestCheckRefusesPasswordInURL(t *testing.T) {
	const secret = "pw-C4-never-print"
	cfg := writeConfig(t, "store:\n  postgres_url: postgres://bot:"+secret+"@db.internal/awsreset\n"+
		"users:\n  - slack_user: U0ALICE001\n    iam_user: alice\n")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"check", "--config", cfg}, &out, &errOut, nil)
	all := out.String() + errOut.String()
	if err == nil || !strings.Contains(all, "store.postgres_url: holds a password") {
		t.Errorf("check = %v, %q; want a refusal naming store.postgres_url", err, all)
	}
	if strings.Contains(all, secret) {
		t.Errorf("check printed the password: %s", all)
	}
}
