package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHandler(t *testing.T) {
	var slackErr error
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "x"})
	reg.MustRegister(c)
	c.Inc()
	srv := httptest.NewServer(Handler(Checks{
		"slack": func(context.Context) error { return slackErr },
		"store": func(context.Context) error { return nil },
	}, reg))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		path     string
		slackErr error
		code     int
		body     string
	}{
		{"/healthz", nil, 200, "ok"},
		{"/readyz", nil, 200, "slack: ok\nstore: ok\n"},
		{"/readyz", errors.New("socket mode is not connected"), 503, "slack: socket mode is not connected\nstore: ok\n"},
		{"/healthz", errors.New("down"), 200, "ok"},
		{"/metrics", nil, 200, "test_total 1"},
		{"/other", nil, 404, ""},
	}
	for _, tt := range tests {
		slackErr = tt.slackErr
		code, body := get(tt.path)
		if code != tt.code || !strings.Contains(body, tt.body) {
			t.Errorf("GET %s (slack %v) = %d %q; want %d containing %q", tt.path, tt.slackErr, code, body, tt.code, tt.body)
		}
	}
}
