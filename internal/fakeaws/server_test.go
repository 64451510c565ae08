package fakeaws

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// TestEnvPath proves a process configured only through Env reaches the fake
// with the SDK's default chain, for both services.
func TestEnvPath(t *testing.T) {
	s := start(t, Options{})
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}

	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:iam::123456789012:user/aws-reset-bot"; got != want {
		t.Errorf("GetCallerIdentity Arn = %q; want %q", got, want)
	}

	out, err := iam.NewFromConfig(cfg).GetUser(t.Context(), &iam.GetUserInput{})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got := aws.ToString(out.User.UserName); got != BotUserName {
		t.Errorf("GetUser() UserName = %q; want %q", got, BotUserName)
	}

	calls := s.Calls("")
	if len(calls) != 2 {
		t.Fatalf("Calls(\"\") = %d calls; want 2", len(calls))
	}
	for _, c := range calls {
		if c.AccessKeyID != AccessKeyID || c.Status != http.StatusOK || c.Code != "" {
			t.Errorf("call %s = key %q status %d code %q; want %q 200 \"\"", c.Action, c.AccessKeyID, c.Status, c.Code, AccessKeyID)
		}
	}
	if got := calls[1].Params.Get("Version"); got != "2010-05-08" {
		t.Errorf("GetUser Version = %q; want 2010-05-08", got)
	}
}

func TestGetCallerIdentity(t *testing.T) {
	s := start(t, Options{})
	out, err := stsClient(s).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(out.Account); got != AccountID {
		t.Errorf("Account = %q; want %q", got, AccountID)
	}
	if got := aws.ToString(out.UserId); got != userID(BotUserName) || !strings.HasPrefix(got, "AIDA") || len(got) != 21 {
		t.Errorf("UserId = %q; want %q (AIDA + 17)", got, userID(BotUserName))
	}
	if md, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); !ok || md != s.Calls("GetCallerIdentity")[0].RequestID {
		t.Errorf("request ID = %q; want the recorded one", md)
	}
}

// TestWireFormat checks the raw documents: namespaces, ResponseMetadata, the
// error shape and the request ID header.
func TestWireFormat(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		name       string
		form       url.Values
		sign       bool
		wantStatus int
		wantBody   []string
	}{
		{
			name:       "success",
			form:       url.Values{"Action": {"GetUser"}, "Version": {"2010-05-08"}},
			sign:       true,
			wantStatus: 200,
			wantBody: []string{
				`<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User><Path>/</Path><UserName>aws-reset-bot</UserName>`,
				`</User></GetUserResult><ResponseMetadata><RequestId>`,
			},
		},
		{
			name:       "sts",
			form:       url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}},
			sign:       true,
			wantStatus: 200,
			wantBody:   []string{`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/aws-reset-bot</Arn>`},
		},
		{
			name:       "empty list",
			form:       url.Values{"Action": {"ListAccountAliases"}, "Version": {"2010-05-08"}},
			sign:       true,
			wantStatus: 200,
			wantBody:   []string{`<ListAccountAliasesResult><AccountAliases></AccountAliases><IsTruncated>false</IsTruncated></ListAccountAliasesResult>`},
		},
		{
			name:       "no Result element",
			form:       url.Values{"Action": {"UpdateLoginProfile"}, "Version": {"2010-05-08"}, "UserName": {"nobody"}},
			sign:       true,
			wantStatus: 404,
			wantBody:   []string{`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name nobody cannot be found.</Message></Error><RequestId>`},
		},
		{
			name:       "invalid action",
			form:       url.Values{"Action": {"DeleteUser"}, "Version": {"2010-05-08"}},
			sign:       true,
			wantStatus: 400,
			wantBody:   []string{`<Code>InvalidAction</Code>`},
		},
		{
			name:       "missing action",
			form:       url.Values{"Version": {"2010-05-08"}},
			sign:       true,
			wantStatus: 400,
			wantBody:   []string{`<Code>MissingAction</Code>`},
		},
		{
			name:       "iam action under the sts version",
			form:       url.Values{"Action": {"GetUser"}, "Version": {"2011-06-15"}},
			sign:       true,
			wantStatus: 400,
			wantBody:   []string{`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`, `<Code>InvalidAction</Code>`},
		},
		{
			name:       "unsigned",
			form:       url.Values{"Action": {"GetUser"}, "Version": {"2010-05-08"}},
			wantStatus: 403,
			wantBody:   []string{`<Code>MissingAuthenticationToken</Code>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := rawPost(t, s, tt.form, tt.sign)
			if status != tt.wantStatus {
				t.Errorf("status = %d; want %d\n%s", status, tt.wantStatus, body)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("body = %s\nwant it to contain %s", body, want)
				}
			}
			id := h.Get("X-Amzn-Requestid")
			if id == "" || !strings.Contains(body, "<RequestId>"+id+"</RequestId>") {
				t.Errorf("x-amzn-RequestId %q is not the body's RequestId: %s", id, body)
			}
			if ct := h.Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type = %q; want text/xml", ct)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		name       string
		creds      aws.CredentialsProvider
		wantCode   string
		wantStatus int
	}{
		{"unknown key", credentials.NewStaticCredentialsProvider("AKIAOTHER00000000000", SecretAccessKey, ""), "InvalidClientTokenId", 403},
		{"wrong secret", credentials.NewStaticCredentialsProvider(AccessKeyID, "not-the-secret", ""), "SignatureDoesNotMatch", 403},
		{"anonymous", aws.AnonymousCredentials{}, "MissingAuthenticationToken", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := iamClient(s, noRetry, func(o *iam.Options) { o.Credentials = tt.creds })
			_, err := c.GetUser(t.Context(), &iam.GetUserInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("GetUser with %s = %v; want %s", tt.name, err, tt.wantCode)
			}
			if got := httpStatus(err); got != tt.wantStatus {
				t.Errorf("status = %d; want %d", got, tt.wantStatus)
			}
		})
	}
	if n := len(s.Calls("GetUser")); n != len(tests) {
		t.Errorf("recorded %d GetUser calls; want %d (refused ones count)", n, len(tests))
	}
}
