package serve

import (
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

	st, err := OpenStore(ctx, cfg, "", nil)
	if err != nil {
		t.Fatalf("OpenStore(nothing set) = %v", err)
	}
	if _, ok := st.(*store.SQLite); !ok {
		t.Errorf("OpenStore(nothing set) = %T; want *store.SQLite", st)
	}
	st.Close()

	// DATABASE_URL wins over store.postgres_url; nothing listens on port 1.
	const secret = "pw-K3-never-print"
	cfg.Store.PostgresURL = "postgres://bot@127.0.0.1:2/other?sslmode=disable"
	if st, err := OpenStore(ctx, cfg, "postgres://bot:"+secret+"@127.0.0.1:1/awsreset?sslmode=disable", nil); err == nil {
		st.Close()
		t.Fatal("OpenStore(DATABASE_URL to port 1) = nil; want an error")
	} else if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("OpenStore(DATABASE_URL to port 1) = %v; want an error naming 127.0.0.1:1 without the password", err)
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
	st, err = OpenStore(ctx, cfg, u.String(), nil)
	if err != nil {
		t.Fatalf("OpenStore(TEST_POSTGRES_DSN) = %v", err)
	}
	defer st.Close()
	if _, ok := st.(*store.Postgres); !ok {
		t.Errorf("OpenStore(TEST_POSTGRES_DSN) = %T; want *store.Postgres", st)
	}
	if err := st.Ping(ctx); err != nil || !strings.HasPrefix(st.String(), "postgres://") {
		t.Errorf("Ping() = %v; String() = %q", err, st.String())
	}
}
