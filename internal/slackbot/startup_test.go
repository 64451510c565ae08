package slackbot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/startup"
)

// withStartup makes the start-up back-off fast and shares its status.
func withStartup(st *startup.Status) harnessOption {
	return withOptions(func(o *slackbot.Options) {
		o.Startup = startup.Options{Base: time.Millisecond, Cap: 20 * time.Millisecond, Status: st}
	})
}

// Slack failing at start (5xx past slack-go's own retries) is waited out:
// not ready meanwhile, and serving once it answers, with no restart.
func TestStartWaitsForSlack(t *testing.T) {
	st := &startup.Status{}
	h := newHarness(t, withStartup(st))
	h.slack.FailNext("auth.test", 12, fakeslack.Fault{Status: http.StatusServiceUnavailable})
	h.launch()
	if err := h.slack.WaitConnected(h.ctx()); err != nil {
		t.Fatalf("the bot never connected after the outage: %v\n%s", err, h.logs.String())
	}
	if n := len(h.slack.Calls("auth.test")); n < 13 {
		t.Errorf("auth.test calls = %d; want the 12 failures and then one that answered", n)
	}
	if !strings.Contains(h.logs.String(), "waiting for a dependency") {
		t.Errorf("the wait was not logged:\n%s", h.logs.String())
	}
}

// A token Slack refuses fails at once, with Slack's word for it.
func TestStartRefusedTokenFailsFast(t *testing.T) {
	for _, code := range []string{"invalid_auth", "not_authed", "token_revoked", "account_inactive"} {
		t.Run(code, func(t *testing.T) {
			h := newHarness(t, withStartup(nil))
			h.slack.FailNext("auth.test", 1, fakeslack.Fault{Error: code})
			h.launch()
			select {
			case err := <-h.done:
				h.cancel = nil
				if err == nil || !strings.Contains(err.Error(), code) {
					t.Errorf("Run() = %v; want an error naming %s", err, code)
				}
			case <-h.ctx().Done():
				t.Fatalf("Run() kept waiting on a refused token")
			}
			if n := len(h.slack.Calls("auth.test")); n != 1 {
				t.Errorf("auth.test calls = %d; want 1", n)
			}
		})
	}
}

// A Slack that accepts connections and never answers does not hang the
// bot: every call has a deadline, the bot says what it waits for, keeps
// trying, and stops when told.
func TestSlackThatNeverAnswers(t *testing.T) {
	calls := make(chan struct{}, 1000)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	st := &startup.Status{}
	h := newHarness(t, withStartup(st), withConfig(func(c *config.Config) { c.Slack.APIURL = hang.URL + "/api/" }),
		withOptions(func(o *slackbot.Options) {
			o.Startup = startup.Options{Base: time.Millisecond, Cap: 20 * time.Millisecond, Status: st}
			o.SlackCallTimeout = 50 * time.Millisecond
			o.SlackRetry.MaxRetries = 0
		}))
	h.launch()
	// Three calls: each earlier one timed out, and the bot tried again.
	for range 3 {
		select {
		case <-calls:
		case err := <-h.done:
			h.cancel = nil
			t.Fatalf("Run() = %v; want it to keep waiting", err)
		case <-h.ctx().Done():
			t.Fatal("the bot stopped calling Slack")
		}
	}
	if err := h.bot.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "waiting for slack") {
		t.Errorf("Check() = %v; want it to say it waits for slack", err)
	}
	start := time.Now()
	if err := h.stop(); err != nil {
		t.Errorf("Run() after stop = %v; want nil", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %v; want prompt", d)
	}
}
