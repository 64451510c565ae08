package reset

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// PasswordExpiry returns when iamUser's console password expires, as IAM
// computes it: the login profile's creation date plus the account
// policy's maximum password age. It returns the zero time when passwords
// never expire (no policy, or no maximum age), and ErrNoLoginProfile when
// the user has no console password.
func (r *Resetter) PasswordExpiry(ctx context.Context, iamUser string) (time.Time, error) {
	// The policy the resets use, cached as they cache it.
	if _, err := r.Policy(ctx, false); err != nil {
		return time.Time{}, err
	}
	r.mu.Lock()
	maxAge := r.maxAge
	r.mu.Unlock()
	if maxAge <= 0 {
		return time.Time{}, nil
	}
	lp, err := r.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(iamUser)})
	if _, none := errors.AsType[*types.NoSuchEntityException](err); none {
		return time.Time{}, fmt.Errorf("get login profile for %s: %w", iamUser, ErrNoLoginProfile)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("get login profile for %s: %w", iamUser, classify(err))
	}
	return aws.ToTime(lp.LoginProfile.CreateDate).AddDate(0, 0, int(maxAge)), nil
}
