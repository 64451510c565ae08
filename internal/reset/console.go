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
	partition := "aws"
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		partition = "aws-cn"
	}
	domain := signInDomain(partition)
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

// signInDomain is the console sign-in domain of a partition.
func signInDomain(partition string) string {
	switch partition {
	case "aws-us-gov":
		return "signin.amazonaws-us-gov.com"
	case "aws-cn":
		return "signin.amazonaws.cn"
	}
	return "signin.aws.amazon.com"
}

// AccountSignInURL is the sign-in URL of an account named by its ID (or
// alias) in a partition (aws, aws-us-gov, aws-cn): what an account reached
// through a role gets without a look-up, which would need the role before
// the bot may start.
func AccountSignInURL(partition, accountOrAlias string) string {
	return fmt.Sprintf("https://%s.%s/console", accountOrAlias, signInDomain(partition))
}
