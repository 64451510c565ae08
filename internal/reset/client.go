package reset

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"
)

// RetryOptions says how IAM calls are retried.
type RetryOptions struct {
	MaxAttempts int           // default 5
	BaseDelay   time.Duration // first backoff, doubled each retry; default 200ms
	MaxDelay    time.Duration // default 5s
}

// NewIAMClient returns an IAM client for cfg that retries throttling,
// 5xx, network errors and EntityTemporarilyUnmodifiable with full-jitter
// exponential backoff. The endpoint comes from cfg, so AWS_ENDPOINT_URL_IAM
// and VPC endpoints work unchanged.
func NewIAMClient(cfg aws.Config, ro RetryOptions, apiOptions ...func(*middleware.Stack) error) *iam.Client {
	if ro.MaxAttempts == 0 {
		ro.MaxAttempts = 5
	}
	if ro.BaseDelay == 0 {
		ro.BaseDelay = 200 * time.Millisecond
	}
	if ro.MaxDelay == 0 {
		ro.MaxDelay = 5 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = pooledHTTPClient()
	}
	return iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, apiOptions...)
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
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
				Codes: map[string]struct{}{"EntityTemporarilyUnmodifiable": {}, "ConcurrentModification": {}},
			})
		})
	})
}
