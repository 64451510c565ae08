package replicatest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/pgtest"
)

const alice = "U0ALICE001"

// aliceWorld is one listed person, alice, on a fake Slack and IAM, a
// PostgreSQL schema reachable directly and through a proxy the test can
// cut, and the configuration and environment the real binary runs with.
type aliceWorld struct {
	slack   *fakeslack.Server
	iam     *fakeaws.Server
	bin     string
	cfgPath string
	env     []string // without DATABASE_URL
	dbURL   string   // direct
	proxy   *pgtest.Proxy
}

// newAliceWorld sets it up, and tears it down when the test ends. The
// replica timeout is 3s; approval.timeout sets the sweep to a tenth of
// it, 1s.
func newAliceWorld(t *testing.T) *aliceWorld {
	t.Helper()
	w := &aliceWorld{dbURL: pgtest.Schema(t), bin: buildBot(t)}
	u, err := url.Parse(w.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	w.proxy = pgtest.NewProxy(t, u.Host)
	w.slack = fakeslack.New(fakeslack.Options{})
	t.Cleanup(w.slack.Close)
	w.iam = fakeaws.New(fakeaws.Options{AccountAlias: "example-co"})
	t.Cleanup(w.iam.Close)
	w.slack.AddUser(fakeslack.User{ID: alice, Name: "alice"})
	w.iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 1})
	w.cfgPath = filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`slack:
  api_url: %s
store:
  replica_timeout: 3s
approval:
  timeout: 10s
reset:
  cooldown: 0s
http:
  addr: 127.0.0.1:0
log:
  format: json
users:
  - {slack_user: %s, iam_user: alice}
`, w.slack.APIURL(), alice)
	if err := os.WriteFile(w.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = append(os.Environ(), "SLACK_APP_TOKEN="+fakeslack.AppToken, "SLACK_BOT_TOKEN="+fakeslack.BotToken)
	for k, v := range w.iam.Env() {
		w.env = append(w.env, k+"="+v)
	}
	return w
}

// start runs a replica on the database at dbURL.
func (w *aliceWorld) start(t *testing.T, dbURL string) *replica {
	t.Helper()
	return startReplica(t, w.bin, w.cfgPath, append(w.env, "DATABASE_URL="+dbURL))
}

// readyzOf returns a function that reads r's /readyz status, once r has
// logged its HTTP address.
func readyzOf(t *testing.T, ctx context.Context, r *replica) func() int {
	t.Helper()
	var base string
	waitUntil(t, ctx, "the HTTP address in the log", func() bool { base = r.logged(addrRE); return base != "" })
	return func() int { code, _ := get("http://" + base + "/readyz"); return code }
}

// passwords counts the ephemeral password messages alice got.
func (w *aliceWorld) passwords() int {
	return count(w.slack, func(m fakeslack.Message) bool {
		return m.Ephemeral && m.User == alice && strings.Contains(string(m.Blocks), "temporary AWS console password")
	})
}
