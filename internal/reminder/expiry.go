package reminder

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// expiry is when one IAM user's console password expires.
type expiry struct {
	expires   time.Time
	protected bool // reset.protected names the user: the bot will not reset it
}

// expiries is what a run learned about the listed users' passwords.
type expiries struct {
	source string
	none   bool              // passwords never expire in this account
	byUser map[string]expiry // by lower-case IAM user name; only users whose password expires
}

// errReportNotReady means the credential report was still being generated
// after every attempt.
var errReportNotReady = errors.New("the credential report is still being generated")

// maxReportBackoff caps the pause between credential report rounds.
const maxReportBackoff = 30 * time.Second

// expiries learns when the listed users' passwords expire. It asks the
// password policy first, since without a maximum age there is nothing to
// learn; then the credential report, one call for the whole account; and
// when the report can't be had, each user's login profile, whose creation
// date plus the maximum age is the expiry, as IAM computes it.
func (r *Reminder) expiries(ctx context.Context) (expiries, error) {
	maxAge, policyErr := r.maxPasswordAge(ctx)
	if policyErr == nil && maxAge == 0 {
		return expiries{source: SourcePasswordPolicy, none: true}, nil
	}
	content, reportErr := r.credentialReport(ctx)
	if reportErr == nil {
		exp, err := r.fromReport(content)
		if err == nil {
			// Trust the report's "no rotation anywhere" only when the
			// policy could not be read: with a maximum age it cannot be.
			exp.none = exp.none && policyErr != nil
			return exp, nil
		}
		reportErr = err
	}
	if ctx.Err() != nil {
		return expiries{}, ctx.Err()
	}
	if policyErr != nil {
		return expiries{}, fmt.Errorf("learn when passwords expire: %w; and without the credential report: %w", policyErr, reportErr)
	}
	r.log.Warn("credential report unavailable: reading each listed user's login profile instead", slog.Any(keyError, reportErr))
	return r.fromLoginProfiles(ctx, maxAge)
}

// maxPasswordAge returns the account policy's maximum password age in
// days; 0 when passwords never expire, which is also the case when the
// account has no password policy at all.
func (r *Reminder) maxPasswordAge(ctx context.Context) (int, error) {
	out, err := r.opts.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	var none *types.NoSuchEntityException
	switch {
	case errors.As(err, &none):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("get account password policy: %w", err)
	case out.PasswordPolicy == nil:
		return 0, nil
	}
	return int(aws.ToInt32(out.PasswordPolicy.MaxPasswordAge)), nil
}

// credentialReport generates the credential report (or finds the one IAM
// keeps for four hours) and downloads it. Generation takes IAM a few
// seconds to minutes: the rounds back off, and are bounded.
func (r *Reminder) credentialReport(ctx context.Context) ([]byte, error) {
	delay := r.opts.ReportBackoff
	var last error
	for attempt := 1; attempt <= r.opts.ReportAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
			delay = min(2*delay, maxReportBackoff)
		}
		gen, err := r.opts.IAM.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		switch {
		case reportNotReady(err):
			last = err
			continue
		case err != nil:
			return nil, fmt.Errorf("generate credential report: %w", err)
		case gen.State != types.ReportStateTypeComplete:
			last = fmt.Errorf("generate credential report: state %s", gen.State)
			continue
		}
		got, err := r.opts.IAM.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		switch {
		case reportNotReady(err):
			last = err
			continue
		case err != nil:
			return nil, fmt.Errorf("get credential report: %w", err)
		}
		return got.Content, nil
	}
	return nil, fmt.Errorf("%w after %d attempts (last: %w)", errReportNotReady, r.opts.ReportAttempts, last)
}

// reportNotReady reports whether err says the report is being generated,
// or must be generated again: worth another round, not a failure.
func reportNotReady(err error) bool {
	var (
		notReady   *types.CredentialReportNotReadyException
		expired    *types.CredentialReportExpiredException
		notPresent *types.CredentialReportNotPresentException
		api        smithy.APIError
	)
	if errors.As(err, &notReady) || errors.As(err, &expired) || errors.As(err, &notPresent) {
		return true
	}
	// The same codes answered to GenerateCredentialReport, which does not
	// model them, come as generic API errors.
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ReportInProgress", "ReportExpired", "ReportNotPresent":
			return true
		}
	}
	return false
}

// reportTimeLayout reads the credential report's timestamps,
// 2024-05-30T10:00:00+00:00.
const reportTimeLayout = time.RFC3339

// fromReport reads the credential report CSV: rows by IAM user name, the
// expiry from password_next_rotation ("N/A" when the password does not
// expire or there is none).
func (r *Reminder) fromReport(content []byte) (expiries, error) {
	cr := csv.NewReader(bytes.NewReader(content))
	header, err := cr.Read()
	if err != nil {
		return expiries{}, fmt.Errorf("read credential report header: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for _, name := range []string{"user", "arn", "password_enabled", "password_next_rotation"} {
		if _, ok := col[name]; !ok {
			return expiries{}, fmt.Errorf("credential report has no %s column", name)
		}
	}
	listed := map[string]bool{}
	for _, u := range r.users {
		listed[strings.ToLower(u.IAMUser)] = true
	}
	exp := expiries{source: SourceCredentialReport, none: true, byUser: map[string]expiry{}}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return expiries{}, fmt.Errorf("read credential report: %w", err)
		}
		if row[col["password_enabled"]] != "true" {
			continue
		}
		next, err := time.Parse(reportTimeLayout, row[col["password_next_rotation"]])
		if err != nil {
			continue // N/A: this password does not expire
		}
		exp.none = false
		name := strings.ToLower(row[col["user"]])
		if listed[name] {
			exp.byUser[name] = expiry{expires: next, protected: r.isProtected(row[col["user"]], pathOfARN(row[col["arn"]]))}
		}
	}
	return exp, nil
}

// fromLoginProfiles asks for each listed user's login profile: its
// creation date is when the password was set.
//
// A user the bot may not read is skipped, not fatal: the least-privilege
// policy (`bot policy`) leaves protected users out, and they should not
// stop everyone else's reminders. Only when every user is refused is the
// run a failure, since then the permission itself is missing.
func (r *Reminder) fromLoginProfiles(ctx context.Context, maxAge int) (expiries, error) {
	exp := expiries{source: SourceLoginProfiles, byUser: map[string]expiry{}}
	var denied []error
	for _, u := range r.users {
		out, err := r.opts.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(u.IAMUser)})
		var none *types.NoSuchEntityException
		switch {
		case errors.As(err, &none):
			continue // no console password (or no such user): nothing expires
		case isAccessDenied(err):
			denied = append(denied, fmt.Errorf("get login profile of %q: %w", u.IAMUser, err))
			r.log.Warn("not allowed to read a login profile: no reminder for this user",
				slog.String(keyIAMUser, u.IAMUser), slog.Any(keyError, err))
			continue
		case err != nil:
			return expiries{}, fmt.Errorf("get login profile of %q: %w", u.IAMUser, err)
		case out.LoginProfile == nil || out.LoginProfile.CreateDate == nil:
			continue
		}
		exp.byUser[strings.ToLower(u.IAMUser)] = expiry{
			expires:   out.LoginProfile.CreateDate.AddDate(0, 0, maxAge),
			protected: r.isProtected(u.IAMUser, ""),
		}
	}
	if len(denied) > 0 && len(denied) == len(r.users) {
		return expiries{}, errors.Join(denied...)
	}
	return exp, nil
}

// isAccessDenied reports whether IAM refused the call for lack of
// permission. IAM does not model AccessDenied, so it is known by its code.
func isAccessDenied(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "AccessDeniedException")
}

// isProtected reports whether reset.protected covers the IAM user, by name
// (case-insensitively, as IAM compares names) or by path when it is known.
// A protected user is still reminded, but not offered the command, which
// would refuse them.
func (r *Reminder) isProtected(name, path string) bool {
	for _, p := range r.protected {
		if strings.HasPrefix(p, "/") {
			if path != "" && strings.HasPrefix(path, p) {
				return true
			}
		} else if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// pathOfARN returns the path of a user ARN, e.g. "/admin/" for
// arn:aws:iam::123456789012:user/admin/alice; "" if it is not one.
func pathOfARN(arn string) string {
	_, resource, ok := strings.Cut(arn, ":user/")
	if !ok {
		return ""
	}
	i := strings.LastIndex(resource, "/")
	return "/" + resource[:i+1]
}
