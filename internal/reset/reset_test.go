package reset_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

func newResetter(t *testing.T, opts reset.Options) (*reset.Resetter, *fakeaws.Server) {
	t.Helper()
	iam := fakeaws.New(fakeaws.Options{})
	t.Cleanup(iam.Close)
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 2, Path: "/staff/"})
	iam.AddUser(fakeaws.User{Name: "nologin"})
	gen, err := password.NewGenerator(20)
	if err != nil {
		t.Fatal(err)
	}
	client := awsclient.New(iam.Config(), awsclient.Options{Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}}).IAM
	return reset.New(client, gen, opts), iam
}

func TestReset(t *testing.T) {
	tests := []struct {
		name      string
		user      string
		fault     string
		n         int
		wantErr   error
		wantCalls int
	}{
		{"ok", "alice", "", 0, nil, 1},
		{"throttled then ok", "alice", "Throttling", 3, nil, 4},
		{"5xx then ok", "alice", "ServiceUnavailable", 2, nil, 3},
		{"network then ok", "alice", "network", 1, nil, 2},
		{"unmodifiable then ok", "alice", "EntityTemporarilyUnmodifiable", 2, nil, 3},
		{"throttled past the retries", "alice", "Throttling", 10, nil, 5},
		{"dropped past the retries", "alice", "network", 10, reset.ErrNoAnswer, 5},
		{"answer lost past the retries", "alice", "network-after", 10, reset.ErrNoAnswer, 5},
		{"answer lost, then throttled past the retries", "alice", "network-after+Throttling", 5, reset.ErrNoAnswer, 5},
		{"answer lost, then a refusal", "alice", "network-after+AccessDenied", 1, reset.ErrNoAnswer, 2},
		{"no login profile", "nologin", "", 0, reset.ErrNoLoginProfile, 1},
		{"no such user", "ghost", "", 0, reset.ErrNoLoginProfile, 1},
		{"access denied", "alice", "AccessDenied", 1, reset.ErrAccessDenied, 1},
		{"policy violation twice", "alice", "PasswordPolicyViolation", 2, reset.ErrPolicyViolation, 2},
		{"policy violation once", "alice", "PasswordPolicyViolation", 1, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, iam := newResetter(t, reset.Options{})
			// "a+b": one a, then n of b.
			if first, then, ok := strings.Cut(tt.fault, "+"); ok {
				iam.FailNext("UpdateLoginProfile", 1, first)
				iam.FailNext("UpdateLoginProfile", tt.n, then)
			} else if tt.fault != "" {
				iam.FailNext("UpdateLoginProfile", tt.n, tt.fault)
			}
			secret, err := r.Reset(context.Background(), tt.user)
			calls := len(iam.Calls("UpdateLoginProfile"))
			if calls != tt.wantCalls {
				t.Errorf("UpdateLoginProfile calls = %d; want %d", calls, tt.wantCalls)
			}
			if tt.wantErr != reset.ErrNoAnswer && errors.Is(err, reset.ErrNoAnswer) {
				t.Errorf("Reset() error = %v; IAM answered, so not ErrNoAnswer", err)
			}
			if tt.name == "throttled past the retries" {
				if err == nil {
					t.Fatal("Reset() = nil; want an error after the retries")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Reset() error = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				if !secret.IsZero() {
					t.Error("a failed reset returned a password")
				}
				return
			}
			p, _ := iam.LoginProfile(tt.user)
			if p.Password != secret.Reveal() || !p.PasswordResetRequired {
				t.Errorf("IAM holds another password, or reset is not required (%v)", p.PasswordResetRequired)
			}
			for _, c := range iam.Calls("") {
				if c.Params.Get("Password") != "" && strings.Contains(err2s(err), c.Params.Get("Password")) {
					t.Error("the password is in the error")
				}
			}
		})
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPolicyCachedAndRefreshed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, iam := newResetter(t, reset.Options{PolicyTTL: 5 * time.Minute, Now: clock})

	p, err := r.Policy(context.Background(), false)
	if err != nil || p != password.DefaultPolicy() {
		t.Fatalf("Policy() with none set = %+v, %v; want AWS's default", p, err)
	}
	iam.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 30, RequireSymbols: true})
	if p, _ := r.Policy(context.Background(), false); p.MinLength != 8 {
		t.Errorf("within the TTL the cached policy must be used; got %+v", p)
	}
	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	if p, _ := r.Policy(context.Background(), false); p.MinLength != 30 || !p.RequireSymbols {
		t.Errorf("after the TTL Policy() = %+v; want the new policy", p)
	}
	if n := len(iam.Calls("GetAccountPasswordPolicy")); n != 2 {
		t.Errorf("GetAccountPasswordPolicy calls = %d; want 2", n)
	}
	iam.FailNext("GetAccountPasswordPolicy", 1, "AccessDenied")
	if _, err := r.Policy(context.Background(), true); !errors.Is(err, reset.ErrAccessDenied) {
		t.Errorf("Policy() when denied = %v; want ErrAccessDenied (fail closed)", err)
	}
}

func TestInspect(t *testing.T) {
	r, iam := newResetter(t, reset.Options{})
	last := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	iam.SetPasswordLastUsed("alice", last)
	acct, err := r.Inspect(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if acct.Path != "/staff/" || acct.MFADevices != 2 || !acct.PasswordLastUsed.Equal(last) {
		t.Errorf("Inspect = %+v", acct)
	}
	if _, err := r.Inspect(context.Background(), "ghost"); !errors.Is(err, reset.ErrNoSuchUser) {
		t.Errorf("Inspect(ghost) = %v; want ErrNoSuchUser", err)
	}
	if err := r.Check(context.Background(), "nologin"); !errors.Is(err, reset.ErrNoLoginProfile) {
		t.Errorf("Check(nologin) = %v; want ErrNoLoginProfile", err)
	}
	if err := r.Check(context.Background(), "alice"); err != nil {
		t.Errorf("Check(alice) = %v", err)
	}
}

func TestCallTimeout(t *testing.T) {
	iam := fakeaws.New(fakeaws.Options{})
	defer iam.Close()
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true})
	gen, _ := password.NewGenerator(20)
	client := awsclient.New(iam.Config(), awsclient.Options{CallTimeout: 100 * time.Millisecond, Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond}}).IAM
	r := reset.New(client, gen, reset.Options{})
	release := iam.Hold("UpdateLoginProfile")
	defer release()
	start := time.Now()
	_, err := r.Reset(context.Background(), "alice")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, reset.ErrNoAnswer) {
		t.Errorf("Reset() with IAM held = %v; want the call's deadline, and ErrNoAnswer", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Reset() took %v; want about the 100ms call timeout", d)
	}
	// Each call has its own deadline: the policy read before it succeeded.
	if n := len(iam.Calls("GetAccountPasswordPolicy")); n != 1 {
		t.Errorf("GetAccountPasswordPolicy calls = %d; want 1", n)
	}
}

func TestSignInURL(t *testing.T) {
	tests := []struct {
		alias, region, want string
	}{
		{"example-co", "us-east-1", "https://example-co.signin.aws.amazon.com/console"},
		{"", "eu-west-1", "https://" + fakeaws.AccountID + ".signin.aws.amazon.com/console"},
		{"gov", "us-gov-west-1", "https://gov.signin.amazonaws-us-gov.com/console"},
		{"cn", "cn-north-1", "https://cn.signin.amazonaws.cn/console"},
	}
	for _, tt := range tests {
		iam := fakeaws.New(fakeaws.Options{AccountAlias: tt.alias})
		c := awsclient.New(iam.Config(), awsclient.Options{})
		got, err := reset.SignInURL(context.Background(), c.IAM, c.STS, tt.region)
		iam.Close()
		if err != nil || got != tt.want {
			t.Errorf("SignInURL(alias %q, %s) = %q, %v; want %q", tt.alias, tt.region, got, err, tt.want)
		}
	}
}
