package fakeaws

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

func TestGetAccountPasswordPolicy(t *testing.T) {
	s := start(t, Options{})
	c := iamClient(s, noRetry)

	_, err := c.GetAccountPasswordPolicy(t.Context(), &iam.GetAccountPasswordPolicyInput{})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || httpStatus(err) != 404 {
		t.Fatalf("GetAccountPasswordPolicy without policy = %v; want NoSuchEntityException 404", err)
	}

	s.SetPasswordPolicy(&PasswordPolicy{
		MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, AllowUsersToChangePassword: true,
		MaxPasswordAge: 90, PasswordReusePrevention: 5,
	})
	out, err := c.GetAccountPasswordPolicy(t.Context(), &iam.GetAccountPasswordPolicyInput{})
	if err != nil {
		t.Fatalf("GetAccountPasswordPolicy: %v", err)
	}
	p := out.PasswordPolicy
	if aws.ToInt32(p.MinimumPasswordLength) != 14 || !p.RequireSymbols || !p.RequireNumbers ||
		!p.RequireUppercaseCharacters || p.RequireLowercaseCharacters || !p.AllowUsersToChangePassword ||
		!p.ExpirePasswords || aws.ToInt32(p.MaxPasswordAge) != 90 || aws.ToInt32(p.PasswordReusePrevention) != 5 ||
		p.HardExpiry == nil || *p.HardExpiry {
		t.Errorf("GetAccountPasswordPolicy = %+v; want the policy set", *p)
	}

	// IAM's floor of 6 and no expiry.
	s.SetPasswordPolicy(&PasswordPolicy{})
	out, err = c.GetAccountPasswordPolicy(t.Context(), &iam.GetAccountPasswordPolicyInput{})
	if err != nil {
		t.Fatalf("GetAccountPasswordPolicy: %v", err)
	}
	if p := out.PasswordPolicy; aws.ToInt32(p.MinimumPasswordLength) != 6 || p.ExpirePasswords || p.MaxPasswordAge != nil || p.PasswordReusePrevention != nil {
		t.Errorf("GetAccountPasswordPolicy of an empty policy = %+v; want length 6, no expiry", *p)
	}

	s.SetPasswordPolicy(nil)
	if _, err := c.GetAccountPasswordPolicy(t.Context(), &iam.GetAccountPasswordPolicyInput{}); !errors.As(err, &nse) {
		t.Errorf("GetAccountPasswordPolicy after SetPasswordPolicy(nil) = %v; want NoSuchEntityException", err)
	}
}

func TestPasswordChecks(t *testing.T) {
	strict := &PasswordPolicy{
		MinimumPasswordLength: 12, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true,
	}
	tests := []struct {
		name     string
		policy   *PasswordPolicy
		password string
		wantCode string // "" = accepted
	}{
		{"strict ok", strict, "Abcdefghij1!", ""},
		{"strict every IAM symbol counts", strict, "Abcdefghij1'", ""},
		{"strict pipe", strict, "Abcdefghij1|", ""},
		{"strict too short", strict, "Abcdefgh1!", "PasswordPolicyViolation"},
		{"strict no upper", strict, "abcdefghij1!", "PasswordPolicyViolation"},
		{"strict no lower", strict, "ABCDEFGHIJ1!", "PasswordPolicyViolation"},
		{"strict no number", strict, "Abcdefghijk!", "PasswordPolicyViolation"},
		{"strict no symbol", strict, "Abcdefghijk1", "PasswordPolicyViolation"},
		{"tilde is not an IAM symbol", strict, "Abcdefghij1~", "PasswordPolicyViolation"},
		{"dot and space are not IAM symbols", strict, "Abcdef ghij1.", "PasswordPolicyViolation"},
		{"other printable characters are allowed", strict, `Abc ~."<>?/1!`, ""},
		{"latin-1 is allowed", strict, "Abcdéfghij1!", ""},
		{"beyond latin-1 is invalid", strict, "Abcdefghij1!€", "ValidationError"},
		{"control character is invalid", strict, "Abcdefghij1!\x01", "ValidationError"},
		{"longer than 128 is invalid", nil, "Aa1!" + strings.Repeat("x", 125), "ValidationError"},
		{"no policy: three classes", nil, "abcdefg1!", ""},
		{"no policy: upper lower digit", nil, "Abcdefg1", ""},
		{"no policy: two classes", nil, "abcdefgh1", "PasswordPolicyViolation"},
		{"no policy: too short", nil, "Abc1!", "PasswordPolicyViolation"},
		{"lenient policy", &PasswordPolicy{}, "abcdef", ""},
		{"lenient policy floor", &PasswordPolicy{}, "abcde", "PasswordPolicyViolation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			s.SetPasswordPolicy(tt.policy)
			s.AddUser(User{Name: "alice", LoginProfile: true})
			c := iamClient(s, noRetry)
			_, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(tt.password)})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("UpdateLoginProfile(%q) = %v; want success", tt.password, err)
				}
				if lp, _ := s.LoginProfile("alice"); lp.Password != tt.password {
					t.Errorf("LoginProfile(alice).Password = %q; want %q", lp.Password, tt.password)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode || httpStatus(err) != 400 {
				t.Fatalf("UpdateLoginProfile(%q) = %v (status %d); want %s 400", tt.password, err, httpStatus(err), tt.wantCode)
			}
			if tt.wantCode == "PasswordPolicyViolation" {
				var ppv *types.PasswordPolicyViolationException
				if !errors.As(err, &ppv) {
					t.Errorf("UpdateLoginProfile(%q) = %T; want *types.PasswordPolicyViolationException", tt.password, err)
				}
			}
			if lp, _ := s.LoginProfile("alice"); lp.Password != "" {
				t.Errorf("refused password was stored: %q", lp.Password)
			}
		})
	}
}

func TestPasswordReusePrevention(t *testing.T) {
	s := start(t, Options{})
	s.SetPasswordPolicy(&PasswordPolicy{MinimumPasswordLength: 8, PasswordReusePrevention: 2})
	s.AddUser(User{Name: "alice", LoginProfile: true})
	c := iamClient(s, noRetry)
	set := func(pw string) error {
		_, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(pw)})
		return err
	}
	for _, pw := range []string{"password-1", "password-2"} {
		if err := set(pw); err != nil {
			t.Fatalf("UpdateLoginProfile(%q): %v", pw, err)
		}
	}
	var ppv *types.PasswordPolicyViolationException
	if err := set("password-1"); !errors.As(err, &ppv) {
		t.Errorf("reusing one of the last 2 passwords = %v; want PasswordPolicyViolationException", err)
	}
	if err := set("password-3"); err != nil {
		t.Fatalf("UpdateLoginProfile(password-3): %v", err)
	}
	if err := set("password-1"); err != nil {
		t.Errorf("reusing the third-last password = %v; want success", err)
	}
}
