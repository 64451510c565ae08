package fakeaws

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// as reports whether err is (or wraps) a *T.
func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		code       string
		action     string
		wantStatus int
		typed      func(error) bool // the SDK's typed error, where there is one
	}{
		{"Throttling", "UpdateLoginProfile", 400, nil},
		{"ServiceFailure", "UpdateLoginProfile", 500, as[*types.ServiceFailureException]},
		{"EntityTemporarilyUnmodifiable", "UpdateLoginProfile", 409, as[*types.EntityTemporarilyUnmodifiableException]},
		{"AccessDenied", "UpdateLoginProfile", 403, nil},
		{"NoSuchEntity", "UpdateLoginProfile", 404, as[*types.NoSuchEntityException]},
		{"PasswordPolicyViolation", "UpdateLoginProfile", 400, as[*types.PasswordPolicyViolationException]},
		{"LimitExceeded", "UpdateLoginProfile", 409, as[*types.LimitExceededException]},
		{"ServiceUnavailable", "UpdateLoginProfile", 503, nil},
		{"ReportInProgress", "GetCredentialReport", 404, as[*types.CredentialReportNotReadyException]},
		{"ReportNotPresent", "GetCredentialReport", 410, as[*types.CredentialReportNotPresentException]},
		{"ReportExpired", "GetCredentialReport", 410, as[*types.CredentialReportExpiredException]},
		{"SomethingNew", "UpdateLoginProfile", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			s := start(t, Options{})
			s.AddUser(User{Name: "alice", LoginProfile: true})
			c := iamClient(s, noRetry)
			call := func() error {
				switch tt.action {
				case "GetCredentialReport":
					_, err := c.GenerateCredentialReport(t.Context(), nil)
					if err != nil {
						return err
					}
					_, err = c.GetCredentialReport(t.Context(), nil)
					return err
				default:
					_, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz")})
					return err
				}
			}
			s.FailNext(tt.action, 1, tt.code)
			err := call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Fatalf("%s with FailNext(%s) = %v; want code %s", tt.action, tt.code, err, tt.code)
			}
			if got := httpStatus(err); got != tt.wantStatus || ErrorStatus(tt.code) != tt.wantStatus {
				t.Errorf("status = %d (ErrorStatus %d); want %d", got, ErrorStatus(tt.code), tt.wantStatus)
			}
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("error %T is not the SDK's typed error", err)
			}
			if tt.typed == nil && !as[*smithy.GenericAPIError](err) {
				t.Errorf("error %T; want *smithy.GenericAPIError", err)
			}
			calls := s.Calls(tt.action)
			if last := calls[len(calls)-1]; last.Status != tt.wantStatus || last.Code != tt.code {
				t.Errorf("recorded %d %q; want %d %q", last.Status, last.Code, tt.wantStatus, tt.code)
			}
			if err := call(); err != nil {
				t.Errorf("%s after the fault = %v; want success", tt.action, err)
			}
		})
	}
}

func TestFailNextQueueAndAnyAction(t *testing.T) {
	s := start(t, Options{})
	c := iamClient(s, noRetry)
	s.FailNext("GetUser", 1, "Throttling")
	s.FailNext("GetUser", 1, "ServiceFailure")
	s.FailNext("", 1, "AccessDenied")
	var codes []string
	for range 4 {
		_, err := c.GetUser(t.Context(), nil)
		var ae smithy.APIError
		if errors.As(err, &ae) {
			codes = append(codes, ae.ErrorCode())
		} else {
			codes = append(codes, "")
		}
	}
	if want := []string{"Throttling", "ServiceFailure", "AccessDenied", ""}; !equal(codes, want) {
		t.Errorf("codes = %v; want %v", codes, want)
	}

	s.FailNext("GetUser", 5, "Throttling")
	s.FailNext("GetUser", 0, "")
	if _, err := c.GetUser(t.Context(), nil); err != nil {
		t.Errorf("GetUser after clearing faults = %v", err)
	}
}

// TestDefaultRetries shows the SDK's default retryer absorbing 5xx faults:
// each attempt takes one.
func TestDefaultRetries(t *testing.T) {
	s := start(t, Options{})
	s.FailNext("GetUser", 2, "ServiceUnavailable")
	if _, err := iamClient(s).GetUser(t.Context(), nil); err != nil {
		t.Fatalf("GetUser with 2 faults and 3 attempts = %v; want success", err)
	}
	calls := s.Calls("GetUser")
	if len(calls) != 3 || calls[0].Status != 503 || calls[1].Status != 503 || calls[2].Status != 200 {
		t.Errorf("calls = %+v; want 503, 503, 200", calls)
	}
}

func TestNetworkFault(t *testing.T) {
	s := start(t, Options{})
	s.FailNext("UpdateLoginProfile", 1, "network")
	s.AddUser(User{Name: "alice", LoginProfile: true})
	_, err := iamClient(s, noRetry).UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz")})
	if err == nil || as[smithy.APIError](err) || !as[*smithyhttp.RequestSendError](err) {
		t.Fatalf("UpdateLoginProfile over a dropped connection = %v (%T); want a RequestSendError", err, err)
	}
	calls := s.Calls("UpdateLoginProfile")
	if len(calls) != 1 || calls[0].Status != 0 || calls[0].Code != "network" {
		t.Errorf("calls = %+v; want one with status 0, code network", calls)
	}
	if lp, _ := s.LoginProfile("alice"); lp.Password != "" {
		t.Errorf("dropped request changed the password to %q", lp.Password)
	}

	// The answer is lost but the password changed.
	s.FailNext("UpdateLoginProfile", 1, "network-after")
	_, err = iamClient(s, noRetry).UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!new")})
	if !as[*smithyhttp.RequestSendError](err) {
		t.Errorf("UpdateLoginProfile with network-after = %v; want a RequestSendError", err)
	}
	if lp, _ := s.LoginProfile("alice"); lp.Password != "Abcdefgh1!new" {
		t.Errorf("password after network-after = %q; want the new one", lp.Password)
	}
	if calls := s.Calls("UpdateLoginProfile"); len(calls) != 2 || calls[1].Code != "network-after" || calls[1].Status != 0 {
		t.Errorf("calls = %+v; want the second with status 0, code network-after", calls)
	}

	// The default retryer resends after a dropped connection.
	s.FailNext("GetUser", 1, "network")
	if _, err := iamClient(s).GetUser(t.Context(), nil); err != nil {
		t.Errorf("GetUser with one dropped connection and default retries = %v; want success", err)
	}
	if calls := s.Calls("GetUser"); len(calls) != 2 || calls[0].Code != "network" || calls[1].Status != 200 {
		t.Errorf("GetUser calls = %+v; want a dropped one, then 200", calls)
	}
}

func TestHold(t *testing.T) {
	s := start(t, Options{})
	s.AddUser(User{Name: "alice", LoginProfile: true})
	c := iamClient(s, noRetry)
	release := s.Hold("UpdateLoginProfile")

	done := make(chan error, 1)
	go func() {
		_, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz")})
		done <- err
	}()
	held, err := s.WaitHeld(t.Context(), "UpdateLoginProfile")
	if err != nil {
		t.Fatalf("WaitHeld: %v", err)
	}
	if held.Params.Get("UserName") != "alice" || held.Status != 0 {
		t.Errorf("held call = %+v; want alice, unanswered", held)
	}
	// Other actions are not held.
	if _, err := c.GetUser(t.Context(), nil); err != nil {
		t.Errorf("GetUser during a hold on UpdateLoginProfile = %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("UpdateLoginProfile returned %v while held", err)
	default:
	}
	if lp, _ := s.LoginProfile("alice"); lp.Password != "" {
		t.Errorf("held request already changed the password")
	}
	release()
	release() // idempotent
	if err := <-done; err != nil {
		t.Fatalf("UpdateLoginProfile after release = %v", err)
	}
	if lp, _ := s.LoginProfile("alice"); lp.Password != "Abcdefgh1!xyz" {
		t.Errorf("password after release = %q", lp.Password)
	}
	// After release, requests pass.
	if _, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Abcdefgh1!xyz2")}); err != nil {
		t.Errorf("UpdateLoginProfile after release = %v", err)
	}
}

func TestHoldClientGivesUp(t *testing.T) {
	s := start(t, Options{})
	defer s.Hold("GetUser")()
	c := iamClient(s, noRetry)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.GetUser(ctx, nil)
		done <- err
	}()
	if _, err := s.WaitHeld(t.Context(), "GetUser"); err != nil {
		t.Fatalf("WaitHeld: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("GetUser with its context cancelled = %v; want context.Canceled", err)
	}
	call, err := s.WaitCall(t.Context(), "GetUser", func(c Call) bool { return c.Code == "canceled" })
	if err != nil || call.Status != 0 {
		t.Errorf("WaitCall(canceled) = %+v, %v; want a call with status 0", call, err)
	}
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	s := New(Options{Latency: time.Hour})
	s.Hold("GetUser")
	c := iamClient(s, noRetry)
	done := make(chan error, 2)
	go func() {
		_, err := c.GetUser(t.Context(), nil)
		done <- err
	}()
	go func() {
		_, err := c.ListUsers(t.Context(), nil) // stuck in the hour of latency
		done <- err
	}()
	if _, err := s.WaitHeld(t.Context(), "GetUser"); err != nil {
		t.Fatalf("WaitHeld: %v", err)
	}
	s.Close()
	s.Close()
	for range 2 {
		if err := <-done; err == nil {
			t.Error("request during Close succeeded; want a transport error")
		}
	}
}

func TestLatency(t *testing.T) {
	s := start(t, Options{Latency: 30 * time.Millisecond})
	c := iamClient(s)
	begin := time.Now()
	if _, err := c.GetUser(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 30*time.Millisecond {
		t.Errorf("GetUser with 30ms latency took %v", d)
	}
	s.SetLatency(0)
	s.FailNext("GetUser", 1, "AccessDenied")
	s.SetLatency(30 * time.Millisecond)
	begin = time.Now()
	if _, err := iamClient(s, noRetry).GetUser(t.Context(), nil); err == nil {
		t.Fatal("GetUser: want AccessDenied")
	}
	if d := time.Since(begin); d < 30*time.Millisecond {
		t.Errorf("error answer with 30ms latency took %v", d)
	}
}

func TestWaitCall(t *testing.T) {
	s := start(t, Options{})
	c := iamClient(s)
	go func() {
		for _, name := range []string{"a", "b"} {
			_, _ = c.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
		}
	}()
	call, err := s.WaitCall(t.Context(), "GetUser", func(c Call) bool { return c.Params.Get("UserName") == "b" })
	if err != nil || call.Code != "NoSuchEntity" || call.Status != 404 {
		t.Errorf("WaitCall(b) = %+v, %v; want NoSuchEntity 404", call, err)
	}
	if calls := s.Calls("GetUser"); len(calls) != 2 || calls[0].Params.Get("UserName") != "a" {
		t.Errorf("Calls(GetUser) = %+v; want a then b", calls)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.WaitCall(ctx, "DeleteUser", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitCall for a call that never comes = %v; want DeadlineExceeded", err)
	}
}

// TestConcurrentResets is for the race detector.
func TestConcurrentResets(t *testing.T) {
	s := start(t, Options{})
	c := iamClient(s)
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		name := string(rune('a' + i))
		s.AddUser(User{Name: name, LoginProfile: true})
		go func() {
			_, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String(name), Password: aws.String("Abcdefgh1!xyz")})
			if err == nil {
				_, err = c.GenerateCredentialReport(t.Context(), nil)
			}
			errs <- err
			_ = s.Calls("")
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(s.Calls("UpdateLoginProfile")); got != n {
		t.Errorf("recorded %d UpdateLoginProfile calls; want %d", got, n)
	}
}
