package fakeaws

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// assumed returns an IAM client on the role's temporary credentials.
func assumed(s *Server, roleARN, externalID, session string) *iam.Client {
	cfg := s.Config()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(s.Config()), roleARN,
		func(o *stscreds.AssumeRoleOptions) {
			if externalID != "" {
				o.ExternalID = aws.String(externalID)
			}
			o.RoleSessionName = session
		}))
	return iam.NewFromConfig(cfg, noRetry)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAssumeRoleTwoAccounts(t *testing.T) {
	s := start(t, Options{})
	prod := s.AddAccount("111111111111", AccountOptions{AccountAlias: "acme-prod"})
	prod.AddRole(Role{Name: "aws-reset-bot", ExternalID: "ext-1"})
	prod.AddUser(User{Name: "bob"})
	prod.SetPasswordPolicy(&PasswordPolicy{MinimumPasswordLength: 30})
	dev := s.AddAccount("222222222222", AccountOptions{})
	dev.AddRole(Role{Name: "aws-reset-bot"})
	dev.AddUser(User{Name: "bob-dev"})

	ctx := t.Context()
	p := assumed(s, prod.RoleARN("aws-reset-bot"), "ext-1", "aws-reset-bot")
	if _, err := p.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatalf("prod GetUser(bob) = %v; want the user", err)
	}
	if _, err := p.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob-dev")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("prod GetUser(bob-dev) = %v; want NoSuchEntity (it lives in dev)", err)
	}
	pol, err := p.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if err != nil || aws.ToInt32(pol.PasswordPolicy.MinimumPasswordLength) != 30 {
		t.Errorf("prod GetAccountPasswordPolicy = %v, %v; want prod's policy", pol, err)
	}
	d := assumed(s, dev.RoleARN("aws-reset-bot"), "", "aws-reset-bot")
	if _, err := d.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("dev GetAccountPasswordPolicy = %v; want NoSuchEntity (dev has none)", err)
	}
	if _, err := d.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob-dev")}); err != nil {
		t.Errorf("dev GetUser(bob-dev) = %v", err)
	}
	if got := len(prod.Calls("GetUser")); got != 2 {
		t.Errorf("prod saw %d GetUser calls; want 2", got)
	}
	ar := s.Calls("AssumeRole")
	if len(ar) != 2 || ar[0].Params.Get("ExternalId") != "ext-1" || ar[0].Params.Get("RoleSessionName") != "aws-reset-bot" {
		t.Errorf("AssumeRole calls = %+v", ar)
	}
	own := iam.NewFromConfig(s.Config(), noRetry)
	if _, err := own.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("own account GetUser(bob) = %v; want NoSuchEntity", err)
	}
}

func TestAssumeRoleRefused(t *testing.T) {
	s := start(t, Options{})
	prod := s.AddAccount("111111111111", AccountOptions{})
	prod.AddRole(Role{Name: "with-ext", ExternalID: "right"})
	prod.AddRole(Role{Name: "untrusted", Untrusted: true})
	tests := []struct {
		name, role, ext, session, code string
		status                         int
	}{
		{"wrong external ID", prod.RoleARN("with-ext"), "wrong", "aws-reset-bot", "AccessDenied", 403},
		{"no external ID", prod.RoleARN("with-ext"), "", "aws-reset-bot", "AccessDenied", 403},
		{"untrusted", prod.RoleARN("untrusted"), "", "aws-reset-bot", "AccessDenied", 403},
		{"missing role", prod.RoleARN("nope"), "", "aws-reset-bot", "AccessDenied", 403},
		{"unknown account", "arn:aws:iam::999999999999:role/x", "", "aws-reset-bot", "AccessDenied", 403},
		{"bad session name", prod.RoleARN("with-ext"), "right", "a b", "ValidationError", 400},
		{"short session name", prod.RoleARN("with-ext"), "right", "a", "ValidationError", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := assumed(s, tt.role, tt.ext, tt.session)
			_, err := c.GetUser(t.Context(), &iam.GetUserInput{})
			if apiCode(err) != tt.code || httpStatus(err) != tt.status {
				t.Errorf("GetUser through AssumeRole(%s) = %v; want %s (%d)", tt.role, err, tt.code, tt.status)
			}
		})
	}
}

func TestIssuedCredentialsExpire(t *testing.T) {
	clock := newClock()
	s := start(t, Options{Now: clock.Now})
	prod := s.AddAccount("111111111111", AccountOptions{})
	prod.AddRole(Role{Name: "r"})
	prod.AddUser(User{Name: "bob"})
	s.SetCredentialLifetime(15 * time.Minute)
	out, err := sts.NewFromConfig(s.Config()).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(prod.RoleARN("r")), RoleSessionName: aws.String("aws-reset-bot")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToTime(out.Credentials.Expiration), clock.Now().Add(15*time.Minute); !got.Equal(want) {
		t.Errorf("Expiration = %v; want %v", got, want)
	}
	c := out.Credentials
	cfg := s.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	client := iam.NewFromConfig(cfg, noRetry)
	get := func() error {
		_, err := client.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("bob")})
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("GetUser before expiry = %v", err)
	}
	clock.Advance(15 * time.Minute)
	if err := get(); apiCode(err) != "ExpiredToken" || httpStatus(err) != 403 {
		t.Errorf("GetUser after expiry = %v; want ExpiredToken (403)", err)
	}
	wrong := s.Config()
	wrong.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "forged")
	if _, err := iam.NewFromConfig(wrong, noRetry).GetUser(t.Context(), &iam.GetUserInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("GetUser with a forged session token = %v; want InvalidClientTokenId", err)
	}
}

func TestExpireCredentials(t *testing.T) {
	s := start(t, Options{})
	prod := s.AddAccount("111111111111", AccountOptions{})
	prod.AddRole(Role{Name: "r"})
	c := assumed(s, prod.RoleARN("r"), "", "aws-reset-bot")
	if _, err := c.GetUser(t.Context(), &iam.GetUserInput{}); apiCode(err) != "NoSuchEntity" {
		t.Fatalf("GetUser = %v; want NoSuchEntity (the caller is a role)", err)
	}
	s.ExpireCredentials()
	if _, err := c.GetUser(t.Context(), &iam.GetUserInput{}); apiCode(err) != "ExpiredToken" {
		t.Errorf("GetUser after ExpireCredentials = %v; want ExpiredToken", err)
	}
	id, err := sts.NewFromConfig(s.Config()).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != AccountID {
		t.Errorf("own GetCallerIdentity = %v, %v", id, err)
	}
}

func TestAccountHoldAndFaults(t *testing.T) {
	s := start(t, Options{})
	prod := s.AddAccount("111111111111", AccountOptions{})
	prod.AddRole(Role{Name: "r"})
	prod.AddUser(User{Name: "bob"})
	c := assumed(s, prod.RoleARN("r"), "", "aws-reset-bot")
	prod.FailNext("GetUser", 1, "ServiceFailure")
	if _, err := c.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("bob")}); apiCode(err) != "ServiceFailure" {
		t.Errorf("GetUser with a fault injected in prod = %v; want ServiceFailure", err)
	}
	release := prod.Hold("GetUser")
	done := make(chan error, 1)
	go func() {
		_, err := c.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("bob")})
		done <- err
	}()
	if _, err := prod.WaitHeld(t.Context(), "GetUser"); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; err != nil {
		t.Errorf("GetUser after the hold = %v", err)
	}
}
