package slackbot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// throttlingServer answers 429 with Retry-After: 1 to the first n calls.
func throttlingServer(t *testing.T, n int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func post(ctx context.Context, t *testing.T, c *pacedClient, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("token=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("Do() error %v", err)
	}
	resp.Body.Close()
	return resp
}

func TestPacedClientRetriesAfterRetryAfter(t *testing.T) {
	srv, calls := throttlingServer(t, 2)
	c := &pacedClient{next: http.DefaultClient, pace: newPacer(map[string]int{"chat.postEphemeral": 6000}, time.Now)}
	start := time.Now()
	resp := post(context.Background(), t, c, srv.URL+"/api/chat.postEphemeral")
	if resp.StatusCode != http.StatusOK || calls.Load() != 3 {
		t.Errorf("Do() = %d after %d calls; want 200 after 3", resp.StatusCode, calls.Load())
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("two 429s with Retry-After 1 took %v; want at least 2s", d)
	}
	// The method is paced now, and a method never throttled is not.
	if c.pace.methods["chat.postEphemeral"] == nil || c.pace.methods["users.info"] != nil {
		t.Errorf("paced methods = %v; want chat.postEphemeral only", c.pace.methods)
	}
}

func TestPacedClientStopsAtTheDeadline(t *testing.T) {
	srv, calls := throttlingServer(t, 100)
	c := &pacedClient{next: http.DefaultClient, pace: newPacer(nil, time.Now)}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp := post(ctx, t, c, srv.URL+"/api/users.info")
	if resp.StatusCode != http.StatusTooManyRequests || calls.Load() != 1 {
		t.Errorf("Do() = %d after %d calls; want the 429 after 1, as the deadline comes before the retry", resp.StatusCode, calls.Load())
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("Do() took %v; want the 429 at once", d)
	}
}

func TestPacerAdmitWaitsWhileClosed(t *testing.T) {
	p := newPacer(map[string]int{"conversations.open": 600}, time.Now)
	if err := p.admit(context.Background()); err != nil {
		t.Fatalf("admit() before any 429 = %v", err)
	}
	p.throttled("conversations.open", 300*time.Millisecond)
	start := time.Now()
	if err := p.admit(context.Background()); err != nil {
		t.Fatalf("admit() = %v", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("admit() while closed for 300ms returned after %v", d)
	}
	// Admission follows the slowest paced method: 600/min, 100ms apart.
	start = time.Now()
	for range 3 {
		if err := p.admit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("three admissions at 600/min took %v; want about 300ms", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	p.throttled("conversations.open", time.Minute)
	if err := p.admit(ctx); err == nil {
		t.Error("admit() with a deadline before the reopening = nil; want an error")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{{"30", 30 * time.Second}, {"", time.Second}, {"0", time.Second}, {"junk", time.Second}, {"99999", time.Hour}} {
		resp := &http.Response{Header: http.Header{"Retry-After": {tt.header}}}
		if got := retryAfter(resp); got != tt.want {
			t.Errorf("retryAfter(%q) = %v; want %v", tt.header, got, tt.want)
		}
	}
}
