package reset

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
)

// RetryOptions are awsclient.RetryOptions, under their old name for
// internal/slackbot's tests.
type RetryOptions = awsclient.RetryOptions

// NewIAMClient is awsclient.New's IAM client with no deadline, rate limit
// or metrics. It is kept only for internal/slackbot's tests until they move
// to awsclient.New; everything else calls awsclient.New.
func NewIAMClient(cfg aws.Config, ro RetryOptions) *iam.Client {
	return awsclient.New(cfg, awsclient.Options{Retry: ro}).IAM
}
