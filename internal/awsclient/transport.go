package awsclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// maxIdleConns is how many connections to IAM are kept open between calls.
// The SDK keeps 10 per host; under a burst the bot has more calls than that
// in flight, and every call past the tenth would open, and then drop, a TLS
// connection of its own.
const maxIdleConns = 256

// Deadlines for each step of one HTTP attempt. aws.call_timeout bounds the
// whole call; these make an endpoint that accepts a connection and then
// says nothing fail the attempt, and so be retried, well within it. IAM
// and STS answer in well under a second.
const (
	dialTimeout           = 5 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 10 * time.Second
)

// httpClient is the SDK's HTTP client with enough idle connections for the
// bot's concurrency and a deadline on dialling, the TLS handshake and the
// response header.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = maxIdleConns
			t.MaxIdleConnsPerHost = maxIdleConns
			t.TLSHandshakeTimeout = tlsHandshakeTimeout
			t.ResponseHeaderTimeout = responseHeaderTimeout
		})
}

// rateGuard is the share of the limit left unused, so that calls paced on
// the bot's clock still keep under it on IAM's despite network jitter: 2%
// of a second is 20ms of slack for any window of one second.
const rateGuard = 0.02

// rateLimit returns an SDK API option that paces every HTTP attempt,
// retries included, to at most perSecond calls a second, in the order the
// calls asked. The wait ends early with an error when the call's context
// would end first. perSecond <= 0 means no limit.
func rateLimit(perSecond float64) func(*middleware.Stack) error {
	if perSecond <= 0 {
		return func(*middleware.Stack) error { return nil }
	}
	limiter := rate.NewLimiter(rate.Limit(perSecond*(1-rateGuard)), 1)
	return func(stack *middleware.Stack) error {
		// After the retry middleware, so each attempt waits its turn; before
		// signing, so a long wait cannot age the signature.
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("awsreset-ratelimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := limiter.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the IAM rate limit: %w", err)
				}
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	}
}

// callTimeout returns an SDK API option that bounds each call, its retries
// included, by d. A d of zero or less adds nothing.
func callTimeout(d time.Duration) func(*middleware.Stack) error {
	if d <= 0 {
		return func(*middleware.Stack) error { return nil }
	}
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awsreset-calltimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}
