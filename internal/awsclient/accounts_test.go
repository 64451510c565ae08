package awsclient_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
)

func twoAccountFake(t *testing.T) (*fakeaws.Server, *fakeaws.Server) {
	t.Helper()
	fake := fakeaws.New(fakeaws.Options{})
	t.Cleanup(fake.Close)
	prod := fake.AddAccount("111111111111", fakeaws.AccountOptions{})
	prod.AddRole(fakeaws.Role{Name: "aws-reset-bot", ExternalID: "ext-1"})
	prod.AddUser(fakeaws.User{Name: "bob"})
	return fake, prod
}

func getBob(t *testing.T, c awsclient.Clients) error {
	t.Helper()
	_, err := c.IAM.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("bob")})
	return err
}

// TestForAccountRefreshesBeforeExpiry checks that the role's credentials
// are cached (one AssumeRole for many calls) and assumed again once they
// expire, with the session name and external ID every time.
func TestForAccountRefreshesBeforeExpiry(t *testing.T) {
	fake, prod := twoAccountFake(t)
	fake.SetCredentialLifetime(15 * time.Minute)
	synctest.Test(t, func(t *testing.T) {
		base := inBubble(fake)
		own := awsclient.New(base, awsclient.Options{})
		c := awsclient.ForAccount(base, own, config.Account{Name: "prod", RoleARN: prod.RoleARN("aws-reset-bot"), ExternalID: "ext-1"}, awsclient.Options{})
		for range 3 {
			if err := getBob(t, c); err != nil {
				t.Fatalf("GetUser(bob) in prod = %v", err)
			}
		}
		time.Sleep(20 * time.Minute) // the bubble's clock: past the credentials' expiry
		if err := getBob(t, c); err != nil {
			t.Fatalf("GetUser(bob) after expiry = %v; want fresh credentials", err)
		}
	})
	ar := fake.Calls("AssumeRole")
	if len(ar) != 2 {
		t.Fatalf("AssumeRole calls = %d; want 2 (one, then one after expiry)", len(ar))
	}
	for _, c := range ar {
		if c.Params.Get("RoleSessionName") != awsclient.SessionName || c.Params.Get("ExternalId") != "ext-1" {
			t.Errorf("AssumeRole params = %v", c.Params)
		}
	}
	gets := prod.Calls("GetUser")
	if len(gets) != 4 || gets[0].AccessKeyID == gets[3].AccessKeyID || gets[0].Account != "111111111111" {
		t.Errorf("GetUser calls in prod = %+v; want 4, the last with new keys", gets)
	}
}

// TestForAccountExpiredTokenReassumes checks that a session STS ended
// early (ExpiredToken while the cache still trusts it) is assumed again
// and the call retried.
func TestForAccountExpiredTokenReassumes(t *testing.T) {
	fake, prod := twoAccountFake(t)
	own := awsclient.New(fake.Config(), awsclient.Options{})
	c := awsclient.ForAccount(fake.Config(), own, config.Account{Name: "prod", RoleARN: prod.RoleARN("aws-reset-bot"), ExternalID: "ext-1"},
		awsclient.Options{Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}})
	if err := getBob(t, c); err != nil {
		t.Fatal(err)
	}
	fake.ExpireCredentials()
	if err := getBob(t, c); err != nil {
		t.Fatalf("GetUser(bob) after the session ended = %v; want a retry with a new session", err)
	}
	if n := len(fake.Calls("AssumeRole")); n != 2 {
		t.Errorf("AssumeRole calls = %d; want 2", n)
	}
}

// TestForAccountUnreachable checks the typed error of a role that can't
// be assumed, and that the bot's own account is untouched by it.
func TestForAccountUnreachable(t *testing.T) {
	fake, prod := twoAccountFake(t)
	own := awsclient.New(fake.Config(), awsclient.Options{})
	for _, tt := range []struct{ name, role, ext string }{
		{"wrong external ID", prod.RoleARN("aws-reset-bot"), "wrong"},
		{"missing role", prod.RoleARN("nope"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := awsclient.ForAccount(fake.Config(), own, config.Account{Name: "prod", RoleARN: tt.role, ExternalID: tt.ext}, awsclient.Options{})
			err := getBob(t, c)
			are, ok := errors.AsType[*awsclient.AssumeRoleError](err)
			if !ok || are.Code != "AccessDenied" || are.RoleARN != tt.role {
				t.Fatalf("GetUser through a role that can't be assumed = %v; want *AssumeRoleError{AccessDenied, %s}", err, tt.role)
			}
		})
	}
	if n := len(prod.Calls("GetUser")); n != 0 {
		t.Errorf("prod saw %d GetUser calls; want none", n)
	}
	if _, err := own.STS.GetCallerIdentity(t.Context(), nil); err != nil {
		t.Errorf("own account GetCallerIdentity = %v", err)
	}
}

// TestRequestIDInUserAgent checks that a call made under WithRequestID
// names the request in its User-Agent, for CloudTrail.
func TestRequestIDInUserAgent(t *testing.T) {
	fake, prod := twoAccountFake(t)
	var agents []string
	base := fake.Config()
	base.HTTPClient = agentRecorder{&agents}
	own := awsclient.New(base, awsclient.Options{})
	c := awsclient.ForAccount(base, own, config.Account{Name: "prod", RoleARN: prod.RoleARN("aws-reset-bot"), ExternalID: "ext-1"}, awsclient.Options{})
	ctx := awsclient.WithRequestID(t.Context(), "RABCDEFGHJK")
	if _, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 2 {
		t.Fatalf("requests = %d; want AssumeRole and GetUser", len(agents))
	}
	for _, a := range agents {
		if !strings.Contains(a, "aws-reset-bot/request#RABCDEFGHJK") {
			t.Errorf("User-Agent = %q; want the request ID", a)
		}
	}
}

// agentRecorder notes each request's User-Agent.
type agentRecorder struct{ agents *[]string }

func (a agentRecorder) Do(r *http.Request) (*http.Response, error) {
	*a.agents = append(*a.agents, r.Header.Get("User-Agent"))
	return http.DefaultClient.Do(r)
}

func TestBotSessionName(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"", "aws-reset-bot"},
		{"aws-reset-bot-6d4f9-x2k", "aws-reset-bot-aws-reset-bot-6d4f9-x2k"},
		{"host name/with:odd", "aws-reset-bot-host-name-with-odd"},
		{strings.Repeat("h", 80), "aws-reset-bot-" + strings.Repeat("h", 50)},
	} {
		if got := awsclient.BotSessionName(tt.host); got != tt.want {
			t.Errorf("BotSessionName(%q) = %q; want %q", tt.host, got, tt.want)
		}
	}
}
