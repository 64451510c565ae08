// Package awsclient makes the bot's AWS clients. Every command (run,
// remind, check --live, the demo and the load generator) gets its IAM and
// STS clients from New, so each has the same retries, deadlines, rate
// limit and metrics; a client made anywhere else would silently lack one.
//
// Clients for another AWS account come from ForAccount: New again, with
// that account's role as the credentials and its name in Options.Account.
// base.Copy() keeps base's HTTP client, so every account shares one pool
// of connections, with the deadlines Load gave it.
package awsclient

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
)

// Options are what every client New makes is given.
type Options struct {
	// Account names the account the clients reach, as aws.accounts names
	// it; "" is the bot's own account. It labels the call metrics.
	Account string
	// CallTimeout bounds each IAM or STS call, its retries included
	// (aws.call_timeout); 0 adds no deadline of its own.
	CallTimeout time.Duration
	// MaxCallsPerSecond paces every IAM attempt, retries included
	// (aws.max_calls_per_second); 0 is no limit. IAM's limits are per
	// account, so each New has its own pace.
	MaxCallsPerSecond float64
	// Retry says how IAM and STS calls are retried; zero fields take the
	// defaults.
	Retry RetryOptions
	// Metrics times and counts every call; nil records nothing.
	Metrics *metrics.Metrics

	// SessionName is the role session name ForAccount assumes roles with;
	// "" is SessionName.
	SessionName string

	invalidate func() // drops an assumed role's cached credentials (ForAccount)
}

// FromConfig returns the options aws.* asks for, with m for metrics (nil
// for commands that export none).
func FromConfig(c config.AWS, m *metrics.Metrics) Options {
	return Options{CallTimeout: c.CallTimeout.D(), MaxCallsPerSecond: c.MaxCallsPerSecond, Metrics: m}
}

// Clients are one account's IAM and STS clients.
type Clients struct {
	Account string // Options.Account
	IAM     *iam.Client
	STS     *sts.Client
}

// New returns the IAM and STS clients for cfg (its credentials, region,
// endpoints and HTTP client) with every option in o. The endpoints come
// from cfg, so AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_STS and VPC
// endpoints work unchanged.
func New(cfg aws.Config, o Options) Clients {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = httpClient()
	}
	var common []func(*middleware.Stack) error
	if o.Metrics != nil {
		common = append(common, metrics.AWSMiddleware(o.Metrics, o.Account))
	}
	common = append(common, callTimeout(o.CallTimeout), requestIDAgent)
	if o.invalidate != nil {
		common = append(common, expiredToken(o.invalidate))
	}
	// The rate limit is IAM's: STS has limits of its own, far above the
	// bot's few calls.
	iamAPI := append(slices.Clone(common), rateLimit(o.MaxCallsPerSecond))
	return Clients{
		Account: o.Account,
		IAM: iam.NewFromConfig(cfg, func(opts *iam.Options) {
			opts.APIOptions = append(opts.APIOptions, iamAPI...)
			opts.Retryer = newRetryer(o.Retry, o.invalidate != nil)
		}),
		STS: sts.NewFromConfig(cfg, func(opts *sts.Options) {
			opts.APIOptions = append(opts.APIOptions, common...)
			opts.Retryer = newRetryer(o.Retry, o.invalidate != nil)
		}),
	}
}

// Load reads the SDK's default chain (environment, shared config and
// profiles, web identity such as IRSA, container and instance roles;
// AWS_ENDPOINT_URL_IAM too), with the region from aws.region and an HTTP
// client whose every step has a deadline. Options in extra come last, so
// tests can point the clients at a fake.
func Load(ctx context.Context, c config.AWS, extra ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	// The credential providers are built here and fetch with this client,
	// so a web identity or SSO look-up has the same deadlines as IAM.
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithHTTPClient(httpClient())}
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	opts = append(opts, extra...)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1" // IAM is global; the region only signs requests
	}
	return awsCfg, nil
}
