package awsclient_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
)

// inBubble returns the fake's configuration for clients made inside a
// synctest bubble: requests are served in-process, at the bubble's time.
func inBubble(fake *fakeaws.Server) aws.Config {
	cfg := fake.Config()
	cfg.HTTPClient = fake.InProcessClient()
	return cfg
}

// TestRateLimitCountsRetries checks aws.max_calls_per_second on IAM's side:
// concurrent callers, some of whose calls are throttled and retried, never
// make more than the limit's calls within any one second. It runs on
// synctest's clock, so the fake records each attempt at the instant the
// limiter let it go, whatever the machine's load.
func TestRateLimitCountsRetries(t *testing.T) {
	fake := fakeaws.New(fakeaws.Options{})
	t.Cleanup(fake.Close)
	fake.AddUser(fakeaws.User{Name: "alice", LoginProfile: true})
	fake.FailNext("GetUser", 6, "Throttling")

	const perSecond = 20
	synctest.Test(t, func(t *testing.T) {
		client := awsclient.New(inBubble(fake), awsclient.Options{MaxCallsPerSecond: perSecond,
			Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}}).IAM
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				if _, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil {
					t.Errorf("GetUser() error %v", err)
				}
			})
		}
		wg.Wait()
	})

	calls := fake.Calls("GetUser")
	if len(calls) != 36 {
		t.Fatalf("GetUser calls = %d; want 30 and 6 retries", len(calls))
	}
	for i := range calls {
		j := i
		for j < len(calls) && calls[j].At.Sub(calls[i].At) < time.Second {
			j++
		}
		if j-i > perSecond {
			t.Fatalf("%d calls within one second from call %d; the limit is %d", j-i, i, perSecond)
		}
	}
	if span := calls[len(calls)-1].At.Sub(calls[0].At); span < 1700*time.Millisecond {
		t.Errorf("36 calls at %d/s took %v; want at least 1.7s", perSecond, span)
	}
}

func TestRateLimitEndsWithTheContext(t *testing.T) {
	fake := fakeaws.New(fakeaws.Options{})
	t.Cleanup(fake.Close)
	synctest.Test(t, func(t *testing.T) {
		client := awsclient.New(inBubble(fake), awsclient.Options{MaxCallsPerSecond: 0.5}).IAM
		ctx := t.Context()
		if _, err := client.GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatalf("first GetUser() error %v", err)
		}
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := client.GetUser(ctx, &iam.GetUserInput{}); err == nil {
			t.Fatal("second GetUser() within 100ms at 0.5/s = nil error; want the deadline")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the refused wait took %v; want an error at once, since it could not finish in time", d)
		}
	})
	if n := len(fake.Calls("GetUser")); n != 1 {
		t.Errorf("GetUser calls = %d; want 1", n)
	}
}
