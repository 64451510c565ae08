package serve

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/startup"
)

// errNoCredentials is the one line an operator reads when the SDK's default
// chain found nothing: which chain, in words, instead of the SDK's long
// error that ends in a hint.
var errNoCredentials = errors.New("no AWS credentials found: the bot looks, in order, at the environment " +
	"(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the shared config and credentials files (AWS_PROFILE), " +
	"a web identity token (IRSA: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE), the container credentials endpoint " +
	"(ECS, EKS Pod Identity) and the EC2 instance role; give it one of them")

// awsIdentity waits until AWS knows the bot: its credentials resolve and
// STS GetCallerIdentity answers; then it finds the sign-in URL. Outages
// (network errors, timeouts, throttling, 5xx) are waited out; missing
// credentials or AWS refusing the identity end the start at once.
func awsIdentity(ctx context.Context, cfg config.Config, awsCfg aws.Config, clients awsclient.Clients, o startup.Options) (signIn string, err error) {
	err = startup.Wait(ctx, o, "aws", func(ctx context.Context) error {
		if awsCfg.Credentials == nil {
			return startup.Definitive(errNoCredentials)
		}
		if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
			return classifyAWSStart(err, true)
		}
		if _, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			return classifyAWSStart(fmt.Errorf("sts GetCallerIdentity: %w", err), false)
		}
		u, err := ConsoleURL(ctx, cfg, clients.IAM, clients.STS, awsCfg.Region)
		if err != nil {
			return classifyAWSStart(err, false)
		}
		signIn = u
		return nil
	})
	return signIn, err
}

// classifyAWSStart marks what no wait mends as definitive. credentials is
// true for an error from resolving the credentials themselves.
func classifyAWSStart(err error, credentials bool) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch",
			"UnrecognizedClientException", "IncompleteSignature", "OptInRequired":
			return startup.Definitive(fmt.Errorf("AWS refused the bot's own identity (%s): check the credentials it runs with "+
				"and that they may call sts:GetCallerIdentity (see `bot policy`): %w", ae.ErrorCode(), err))
		}
		return err // throttling, 5xx and the like: wait
	}
	var netErr net.Error
	if credentials && !errors.As(err, &netErr) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		// Nothing in the chain answered with credentials, and not for
		// want of a network.
		return startup.Definitive(errNoCredentials)
	}
	return err
}
