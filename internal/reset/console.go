package reset

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AccountAPI is what SignInURL calls to name the account.
type AccountAPI interface {
	ListAccountAliases(ctx context.Context, in *iam.ListAccountAliasesInput, opts ...func(*iam.Options)) (*iam.ListAccountAliasesOutput, error)
}

// CallerAPI is what SignInURL calls to learn the account ID.
type CallerAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// SignInURL returns the console sign-in URL of the account the bot acts
// in: https://ALIAS.signin.aws.amazon.com/console, or the account ID where
// there is no alias, in the partition of the region.
func SignInURL(ctx context.Context, a AccountAPI, c CallerAPI, region string) (string, error) {
	domain := "signin.aws.amazon.com"
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		domain = "signin.amazonaws-us-gov.com"
	case strings.HasPrefix(region, "cn-"):
		domain = "signin.amazonaws.cn"
	}
	aliases, err := a.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err == nil && len(aliases.AccountAliases) > 0 {
		return fmt.Sprintf("https://%s.%s/console", aliases.AccountAliases[0], domain), nil
	}
	id, err2 := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err2 != nil {
		return "", fmt.Errorf("name the AWS account for the sign-in URL: list account aliases: %w; get caller identity: %w", err, err2)
	}
	return fmt.Sprintf("https://%s.%s/console", aws.ToString(id.Account), domain), nil
}
