package serve

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
	"github.com/aws-reset-bot/aws-reset-bot/internal/startup"
)

// startTest is serve.Run against the fakes, with the start-up back-off
// shortened.
type startTest struct {
	t     *testing.T
	slack *fakeslack.Server
	aws   *fakeaws.Server
	cfg   config.Config
	addr  string
	logs  *leakcheck.Buffer
	done  chan error
}

func newStartTest(t *testing.T) *startTest {
	t.Helper()
	st := &startTest{t: t, slack: fakeslack.New(fakeslack.Options{}), aws: fakeaws.New(fakeaws.Options{AccountAlias: "example-co"}),
		logs: &leakcheck.Buffer{}, done: make(chan error, 1)}
	t.Cleanup(st.slack.Close)
	t.Cleanup(st.aws.Close)
	for k, v := range st.aws.Env() {
		t.Setenv(k, v)
	}
	st.cfg = config.Default()
	st.cfg.Slack.APIURL = st.slack.APIURL()
	st.cfg.Store.Path = filepath.Join(t.TempDir(), "bot.db")
	st.cfg.Users = []config.User{{SlackUser: "U0ALICE001", IAMUser: "alice"}}
	// A free port for the health endpoints, so the test can ask them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st.addr = ln.Addr().String()
	ln.Close()
	st.cfg.HTTP.Addr = st.addr
	t.Cleanup(func() {
		if found := leakcheck.Find(append(fakeslack.Secrets(), st.aws.Secrets()...), map[string][]byte{"logs": []byte(st.logs.String())}); len(found) > 0 {
			t.Errorf("secrets in the output: %v", found)
		}
	})
	return st
}

func (st *startTest) run(ctx context.Context) {
	logger := slog.New(slog.NewTextHandler(st.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	secrets := config.Secrets{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken}
	go func() {
		st.done <- Run(ctx, st.cfg, secrets, logger, Options{Startup: startup.Options{Base: time.Millisecond, Cap: 20 * time.Millisecond}})
	}()
}

// get asks a health endpoint. Run listens before it calls AWS, so once
// AWS has seen a call the endpoints answer.
func (st *startTest) get(path string) (int, string) {
	st.t.Helper()
	resp, err := http.Get("http://" + st.addr + path)
	if err != nil {
		st.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// AWS down at start: alive from the first second, not ready and saying
// why, and serving once AWS answers, with no restart.
func TestStartWaitsForAWS(t *testing.T) {
	st := newStartTest(t)
	st.aws.FailNext("GetCallerIdentity", 1000, "ServiceUnavailable")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st.run(ctx)
	for range 2 { // two rounds of the start-up wait, past the SDK's own retries
		if _, err := st.aws.WaitCall(ctx, "GetCallerIdentity", func(c fakeaws.Call) bool { return c.Status >= 500 }); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := st.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while AWS is down; want 200", code)
	}
	if code, body := st.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "waiting for aws") {
		t.Errorf("/readyz = %d %q while AWS is down; want 503 naming aws", code, body)
	}
	st.aws.FailNext("GetCallerIdentity", 0, "") // AWS is back
	if err := st.slack.WaitConnected(ctx); err != nil {
		t.Fatalf("the bot never went on once AWS answered: %v\n%s", err, st.logs.String())
	}
	cancel()
	if err := <-st.done; err != nil {
		t.Errorf("Run() = %v; want nil after a stop", err)
	}
}

// What no wait mends ends the start at once, with one line that says what
// to do.
func TestStartFailsFastOnDefinitive(t *testing.T) {
	tests := []struct {
		name  string
		setup func(st *startTest)
		want  string
	}{
		{"no credentials", func(st *startTest) {
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
				"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
				st.t.Setenv(k, "")
			}
			st.t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(st.t.TempDir(), "none"))
			st.t.Setenv("AWS_CONFIG_FILE", filepath.Join(st.t.TempDir(), "none"))
		}, "no AWS credentials found"},
		{"access denied", func(st *startTest) { st.aws.FailNext("GetCallerIdentity", 1, "AccessDenied") },
			"AWS refused the bot's own identity (AccessDenied)"},
		{"bad keys", func(st *startTest) { st.aws.FailNext("GetCallerIdentity", 1, "InvalidClientTokenId") },
			"AWS refused the bot's own identity (InvalidClientTokenId)"},
		{"slack token revoked", func(st *startTest) { st.slack.FailNext("auth.test", 1, fakeslack.Fault{Error: "token_revoked"}) },
			"token_revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStartTest(t)
			tt.setup(st)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st.run(ctx)
			select {
			case err := <-st.done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Run() = %v; want an error saying %q", err, tt.want)
				}
				if tt.name == "no credentials" && len(err.Error()) > 600 {
					t.Errorf("the error is %d characters; want one readable line", len(err.Error()))
				}
			case <-ctx.Done():
				t.Fatalf("Run() kept waiting:\n%s", st.logs.String())
			}
		})
	}
}
