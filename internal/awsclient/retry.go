package awsclient

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// RetryOptions say how IAM and STS calls are retried.
type RetryOptions struct {
	MaxAttempts int           // default 5
	BaseDelay   time.Duration // first backoff, doubled each retry; default 200ms
	MaxDelay    time.Duration // default 5s
}

// newRetryer retries throttling, 5xx, network errors and
// EntityTemporarilyUnmodifiable with full-jitter exponential backoff; and,
// for an assumed role's clients (reassume), ExpiredToken.
func newRetryer(ro RetryOptions, reassume bool) aws.Retryer {
	if ro.MaxAttempts == 0 {
		ro.MaxAttempts = 5
	}
	if ro.BaseDelay == 0 {
		ro.BaseDelay = 200 * time.Millisecond
	}
	if ro.MaxDelay == 0 {
		ro.MaxDelay = 5 * time.Second
	}
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = ro.MaxAttempts
		so.MaxBackoff = ro.MaxDelay
		// No client-wide retry quota: under a burst one throttled
		// answer must not stop every other request from retrying.
		so.RateLimiter = ratelimit.None
		so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			ceiling := min(ro.MaxDelay, ro.BaseDelay<<min(attempt, 20))
			return rand.N(ceiling) + 1, nil
		})
		codes := map[string]struct{}{"EntityTemporarilyUnmodifiable": {}, "ConcurrentModification": {}}
		if reassume {
			// The role's session ended early: the retry assumes it again
			// (see expiredToken). The bot's own expired keys would only
			// expire again.
			codes["ExpiredToken"] = struct{}{}
		}
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{Codes: codes})
	})
}
