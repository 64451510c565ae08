package serve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/health"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/pgtest"
)

// sink records what the heartbeats learn, in order.
type sink struct{ reachable chan bool }

func (s *sink) SetReplicas(int)           {}
func (s *sink) SetStoreReachable(ok bool) { s.reachable <- ok }

// A replica whose database goes away is not ready, and refuses new
// requests (the heartbeat says the store is unreachable); when the
// database comes back it reconnects by itself: ready again, taking
// requests, with no restart.
func TestDatabaseLostAndBack(t *testing.T) {
	schemaURL := pgtest.Schema(t)
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, u.Host)
	cfg := config.Default()
	cfg.Store.ReplicaTimeout = config.Duration(3 * time.Second) // a heartbeat a second
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := OpenStore(t.Context(), cfg, proxy.URL(t, schemaURL), logger)
	if err != nil {
		t.Fatalf("OpenStore(through the proxy) = %v", err)
	}
	defer st.Close()

	srv := httptest.NewServer(health.Handler(health.Checks{"store": st.Ping}, prometheus.NewRegistry()))
	defer srv.Close()
	ready := func() int {
		t.Helper()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// next waits for the heartbeat to report want.
	s := &sink{reachable: make(chan bool, 16)}
	next := func(want bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for {
			select {
			case got := <-s.reachable:
				if got == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no heartbeat reporting reachable=%v", want)
			}
		}
	}

	stop := startHeartbeats(t.Context(), st, newReplica(cfg, st), s, logger)
	defer stop()
	next(true)
	if code := ready(); code != http.StatusOK {
		t.Fatalf("/readyz with the database up = %d; want 200", code)
	}

	proxy.Cut()
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database cut off = %d; want 503", code)
	}
	next(false)

	proxy.Restore()
	next(true)
	if code := ready(); code != http.StatusOK {
		t.Errorf("/readyz with the database back = %d; want 200", code)
	}
}
