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
// EntityTemporarilyUnmodifiable with full-jitter exponential backoff.
func newRetryer(ro RetryOptions) aws.Retryer {
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
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{
			// ExpiredToken: an assumed role's session ended early; the
			// retry assumes it again (see expiredToken).
			Codes: map[string]struct{}{"EntityTemporarilyUnmodifiable": {}, "ConcurrentModification": {}, "ExpiredToken": {}},
		})
	})
}
