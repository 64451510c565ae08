// Package reset sets a new temporary console password for an IAM user: it
// reads the account's password policy, generates a password that meets it,
// and calls UpdateLoginProfile with PasswordResetRequired, so AWS asks for a
// new password at the first sign-in.
package reset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
)

// IAM is the part of the IAM API the resetter calls.
type IAM interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, opts ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	UpdateLoginProfile(ctx context.Context, in *iam.UpdateLoginProfileInput, opts ...func(*iam.Options)) (*iam.UpdateLoginProfileOutput, error)
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, opts ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, opts ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, opts ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
}

// Errors a reset ends with, for the bot to turn into words.
var (
	ErrNoLoginProfile  = errors.New("the IAM user has no console password")
	ErrAccessDenied    = errors.New("the bot's AWS identity is not allowed to do this")
	ErrPolicyViolation = errors.New("IAM rejected the password under the account's password policy")
	// ErrNoAnswer: UpdateLoginProfile ended without IAM's answer (a
	// timeout, or the connection lost after the retries), so IAM may
	// have set the new password, which nobody was shown.
	ErrNoAnswer = errors.New("IAM did not answer: the new password may be set")
)

// Options tunes a Resetter.
type Options struct {
	PolicyTTL time.Duration    // how long the account policy is cached; default 5m
	Now       func() time.Time // default time.Now
}

// Resetter resets console passwords. It is safe for concurrent use.
type Resetter struct {
	iam  IAM
	gen  *password.Generator
	opts Options

	mu        sync.Mutex // held while the policy is read, so a burst reads it once
	policy    password.Policy
	maxAge    int32 // the policy's MaxPasswordAge in days; 0 = never expire
	fetchedAt time.Time
}

// New returns a Resetter that calls client and makes passwords with gen.
func New(client IAM, gen *password.Generator, opts Options) *Resetter {
	if opts.PolicyTTL == 0 {
		opts.PolicyTTL = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Resetter{iam: client, gen: gen, opts: opts}
}

// Reset sets a new random password for iamUser, which must change it at
// the next sign-in, and returns it. The password is in no error.
func (r *Resetter) Reset(ctx context.Context, iamUser string) (password.Secret, error) {
	var lost atomic.Bool // an attempt of UpdateLoginProfile went unanswered
	for attempt := 1; ; attempt++ {
		policy, err := r.Policy(ctx, attempt > 1)
		if err != nil {
			return password.Secret{}, err
		}
		secret, err := r.gen.Generate(policy)
		if err != nil {
			return password.Secret{}, fmt.Errorf("reset %s: %w", iamUser, err)
		}
		_, err = r.iam.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{
			UserName:              aws.String(iamUser),
			Password:              aws.String(secret.Reveal()),
			PasswordResetRequired: aws.Bool(true),
		}, noteLostAnswers(&lost))
		if err == nil {
			return secret, nil
		}
		// The policy may have changed since it was cached: read it afresh
		// and try once more.
		if _, ok := errors.AsType[*types.PasswordPolicyViolationException](err); ok && attempt == 1 {
			continue
		}
		return password.Secret{}, fmt.Errorf("update login profile for %s: %w", iamUser, classifyUpdate(err, lost.Load()))
	}
}

// classifyUpdate is classify for UpdateLoginProfile: an error that is not
// IAM's answer may come after IAM took the password, and so may any error
// once an earlier attempt went unanswered (lost): the SDK retries with the
// same password and returns only the last attempt's error.
func classifyUpdate(err error, lost bool) error {
	if lost || !answered(err) {
		return errors.Join(ErrNoAnswer, err)
	}
	return classify(err)
}

// answered reports whether err is IAM's answer, not a call that ended
// without one.
func answered(err error) bool {
	_, ok := errors.AsType[smithy.APIError](err)
	return ok
}

// noteLostAnswers is a call option that sets lost when any attempt of the
// call, retries included, ends without IAM's answer. It sits at the end of
// the finalize step, inside the retry loop, so it sees each attempt's own
// outcome, which the retryer does not pass on.
func noteLostAnswers(lost *atomic.Bool) func(*iam.Options) {
	return func(o *iam.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("awsreset-lost-answers",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleFinalize(ctx, in)
					if err != nil && !answered(err) {
						lost.Store(true)
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

// Check answers whether iamUser has a console password that Reset could
// replace, without changing anything: the dry run.
func (r *Resetter) Check(ctx context.Context, iamUser string) error {
	_, err := r.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(iamUser)})
	if err != nil {
		return fmt.Errorf("get login profile for %s: %w", iamUser, classify(err))
	}
	return nil
}

// Policy returns the account's password policy, from the cache unless it
// is older than the TTL or refresh is set. An account with no policy gets
// AWS's default.
func (r *Resetter) Policy(ctx context.Context, refresh bool) (password.Policy, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	if !refresh && !r.fetchedAt.IsZero() && now.Sub(r.fetchedAt) < r.opts.PolicyTTL {
		return r.policy, nil
	}
	out, err := r.iam.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	var policy password.Policy
	var maxAge int32
	switch _, none := errors.AsType[*types.NoSuchEntityException](err); {
	case none:
		policy = password.DefaultPolicy()
	case err != nil:
		return password.Policy{}, fmt.Errorf("get account password policy: %w", classify(err))
	default:
		policy = PolicyFromIAM(out.PasswordPolicy)
		maxAge = aws.ToInt32(out.PasswordPolicy.MaxPasswordAge)
	}
	r.policy, r.maxAge, r.fetchedAt = policy, maxAge, now
	return policy, nil
}

// PolicyFromIAM reads what an IAM password policy asks of a new password.
func PolicyFromIAM(p *types.PasswordPolicy) password.Policy {
	if p == nil {
		return password.DefaultPolicy()
	}
	return password.Policy{
		MinLength:      int(aws.ToInt32(p.MinimumPasswordLength)),
		RequireUpper:   p.RequireUppercaseCharacters,
		RequireLower:   p.RequireLowercaseCharacters,
		RequireNumbers: p.RequireNumbers,
		RequireSymbols: p.RequireSymbols,
	}
}

// classify adds this package's sentinel errors to the SDK's, so callers
// decide with errors.Is and never by an error's text.
func classify(err error) error {
	if _, ok := errors.AsType[*types.NoSuchEntityException](err); ok {
		return errors.Join(ErrNoLoginProfile, err)
	}
	if _, ok := errors.AsType[*types.PasswordPolicyViolationException](err); ok {
		return errors.Join(ErrPolicyViolation, err)
	}
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			return errors.Join(ErrAccessDenied, err)
		}
	}
	return err
}

// Account is what the bot learns about an IAM user before it resets one.
type Account struct {
	Path             string // e.g. "/" or "/admins/"
	MFADevices       int
	PasswordLastUsed time.Time // zero if never used or unknown
}

// ErrNoSuchUser means IAM has no user of that name.
var ErrNoSuchUser = errors.New("no such IAM user")

// Inspect reads the IAM user's path, MFA devices and last sign-in, so
// protected paths and the MFA gate are checked before any change.
func (r *Resetter) Inspect(ctx context.Context, iamUser string) (Account, error) {
	u, err := r.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(iamUser)})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchEntityException](err); ok {
			return Account{}, fmt.Errorf("get user %s: %w", iamUser, errors.Join(ErrNoSuchUser, err))
		}
		return Account{}, fmt.Errorf("get user %s: %w", iamUser, classify(err))
	}
	acct := Account{Path: aws.ToString(u.User.Path), PasswordLastUsed: aws.ToTime(u.User.PasswordLastUsed)}
	mfa, err := r.iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(iamUser)})
	if err != nil {
		return Account{}, fmt.Errorf("list MFA devices of %s: %w", iamUser, classify(err))
	}
	acct.MFADevices = len(mfa.MFADevices)
	return acct, nil
}

// Scramble overwrites iamUser's password with a random one nobody is
// shown, so an unused temporary password stops working.
func (r *Resetter) Scramble(ctx context.Context, iamUser string) error {
	_, err := r.Reset(ctx, iamUser) // the password is dropped here, unseen
	return err
}
