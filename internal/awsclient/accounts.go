package awsclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// SessionName is the role session name the bot assumes every role with
// unless Options.SessionName says otherwise (serve adds the host name:
// which replica), so CloudTrail shows the bot as the one acting. The
// credentials are cached per account and refreshed before they expire,
// never made per request (AssumeRole on every reset would be slow and
// would multiply STS calls), so the session name cannot carry the request
// ID: each IAM call carries it in its User-Agent instead (see
// WithRequestID), which CloudTrail records as userAgent beside the session.
const SessionName = "aws-reset-bot"

var notInSessionName = regexp.MustCompile(`[^\w+=,.@-]`)

// BotSessionName is SessionName with host (the pod's or machine's name)
// appended, in the characters and the 64 a session name may have.
func BotSessionName(host string) string {
	host = notInSessionName.ReplaceAllString(host, "-")
	if host == "" {
		return SessionName
	}
	return truncateName(SessionName+"-"+host, 64)
}

func truncateName(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ForAccount returns the clients of an account in aws.accounts: New with
// a copy of base whose credentials are the account's role, assumed with
// own's STS client (the bot's own credentials) through the SDK's cache, so
// they are refreshed before they expire. base keeps its HTTP client, so
// every account shares one pool of connections. o.Account is set to the
// account's name.
//
// A role that cannot be assumed makes every call fail with an
// *AssumeRoleError; it is not looked at until the first call, so one
// unreachable account never stops the bot or the other accounts.
func ForAccount(base aws.Config, own Clients, acct config.Account, o Options) Clients {
	cfg := base.Copy()
	role := acct.RoleARN
	provider := stscreds.NewAssumeRoleProvider(own.STS, role, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = cmp.Or(o.SessionName, SessionName)
		if acct.ExternalID != "" {
			ao.ExternalID = aws.String(acct.ExternalID)
		}
	})
	cache := aws.NewCredentialsCache(assumeProvider{provider, role})
	cfg.Credentials = cache
	o.Account = acct.Name
	o.invalidate = cache.Invalidate
	return New(cfg, o)
}

// AssumeRoleError is why the credentials of an account's role could not be
// had: the role is missing, its trust policy does not name the bot, the
// external ID is wrong (all AccessDenied), or STS could not be reached.
type AssumeRoleError struct {
	RoleARN string
	Code    string // STS's error code, e.g. "AccessDenied"; "" when there is none
	Err     error
}

func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("assume role %s: %v", e.RoleARN, e.Err)
}

func (e *AssumeRoleError) Unwrap() error { return e.Err }

// assumeProvider gives the role's errors a type of their own: the STS
// AccessDenied of an AssumeRole must not read as an IAM AccessDenied of
// the call it was made for.
type assumeProvider struct {
	p    aws.CredentialsProvider
	role string
}

func (a assumeProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := a.p.Retrieve(ctx)
	if err != nil {
		e := &AssumeRoleError{RoleARN: a.role, Err: err}
		if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
			e.Code = apiErr.ErrorCode()
		}
		return c, e
	}
	return c, nil
}

// expiredToken returns an API option that drops the cached credentials
// when an attempt is answered ExpiredToken (STS ended the session earlier
// than the cache thought: a clock skew, a revoked session), so the retry
// (ExpiredToken is retryable, see newRetryer) assumes the role afresh.
func expiredToken(invalidate func()) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("awsreset-expired-token",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if apiErr, ok := errors.AsType[smithy.APIError](err); ok && apiErr.ErrorCode() == "ExpiredToken" {
					invalidate()
				}
				return out, md, err
			}), "Retry", middleware.After)
	}
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the bot's request ID, which every
// IAM and STS call made with it names in its User-Agent
// ("aws-reset-bot/request#R…"), so CloudTrail shows which request made it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestIDAgent adds the context's request ID to the User-Agent.
func requestIDAgent(stack *middleware.Stack) error {
	return stack.Build.Add(middleware.BuildMiddlewareFunc("awsreset-request-id",
		func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if id, _ := ctx.Value(requestIDKey{}).(string); id != "" {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set("User-Agent", req.Header.Get("User-Agent")+" aws-reset-bot/request#"+id)
				}
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
}
