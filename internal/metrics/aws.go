package metrics

import (
	"context"
	"errors"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// AWSMiddleware returns an SDK API option that times every IAM or STS call,
// retries included, and counts its retries, labelled with the account the
// client reaches ("" = the bot's own). Add it to a client's APIOptions.
func AWSMiddleware(m *Metrics, account string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awsreset-metrics",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				result := "ok"
				if err != nil {
					result = "error"
					if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
						result = apiErr.ErrorCode()
					}
				}
				retries := 0
				if attempts, ok := retry.GetAttemptResults(md); ok && len(attempts.Results) > 0 {
					retries = len(attempts.Results) - 1
				}
				m.IAMCall(account, awsmiddleware.GetOperationName(ctx), result, time.Since(start), retries)
				return out, md, err
			}), middleware.After)
	}
}
