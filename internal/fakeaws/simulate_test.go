package fakeaws

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

func TestSimulatePrincipalPolicy(t *testing.T) {
	users := "arn:aws:iam::123456789012:user/*"
	alice := "arn:aws:iam::123456789012:user/alice"
	admin := "arn:aws:iam::123456789012:user/admin"
	tests := []struct {
		name      string
		rules     []Rule
		actions   []string
		resources []string
		want      []string // decisions, action-major
	}{
		{"default allows all", nil, []string{"iam:UpdateLoginProfile", "iam:DeleteUser"}, nil,
			[]string{"allowed", "allowed"}},
		{"empty allows none", []Rule{}, []string{"iam:GetUser"}, nil, []string{"implicitDeny"}},
		{"per action and resource",
			[]Rule{{Action: "iam:UpdateLoginProfile", Resource: users}, {Action: "iam:Get*"}},
			[]string{"iam:UpdateLoginProfile", "iam:getloginprofile", "iam:CreateLoginProfile"},
			[]string{alice, "arn:aws:iam::123456789012:role/x"},
			[]string{"allowed", "implicitDeny", "allowed", "allowed", "implicitDeny", "implicitDeny"}},
		{"deny beats allow",
			[]Rule{{Action: "iam:*", Resource: users}, {Action: "iam:UpdateLoginProfile", Resource: admin, Deny: true}},
			[]string{"iam:UpdateLoginProfile"}, []string{alice, admin},
			[]string{"allowed", "explicitDeny"}},
		{"question mark", []Rule{{Action: "iam:?etUser"}}, []string{"iam:GetUser", "iam:SetUser", "iam:GetUsers"}, nil,
			[]string{"allowed", "allowed", "implicitDeny"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			s.SetAllowed(tt.rules)
			out, err := iamClient(s).SimulatePrincipalPolicy(t.Context(), &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: aws.String(callerARN),
				ActionNames:     tt.actions,
				ResourceArns:    tt.resources,
			})
			if err != nil {
				t.Fatalf("SimulatePrincipalPolicy: %v", err)
			}
			var got []string
			for _, r := range out.EvaluationResults {
				got = append(got, string(r.EvalDecision))
			}
			if !equal(got, tt.want) {
				t.Errorf("decisions = %v; want %v", got, tt.want)
			}
			first := out.EvaluationResults[0]
			wantRes := "*"
			if len(tt.resources) > 0 {
				wantRes = tt.resources[0]
			}
			if aws.ToString(first.EvalActionName) != tt.actions[0] || aws.ToString(first.EvalResourceName) != wantRes {
				t.Errorf("first result = %s on %s; want %s on %s", aws.ToString(first.EvalActionName), aws.ToString(first.EvalResourceName), tt.actions[0], wantRes)
			}
			if got := s.Calls("SimulatePrincipalPolicy")[0].Params.Get("ActionNames.member.1"); got != tt.actions[0] {
				t.Errorf("recorded ActionNames.member.1 = %q; want %q", got, tt.actions[0])
			}
		})
	}
}

func TestSimulatePrincipalPolicyUnknownSource(t *testing.T) {
	s := start(t, Options{})
	_, err := iamClient(s, noRetry).SimulatePrincipalPolicy(t.Context(), &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/ghost"),
		ActionNames:     []string{"iam:GetUser"},
	})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || httpStatus(err) != 404 {
		t.Errorf("SimulatePrincipalPolicy(ghost) = %v; want NoSuchEntityException 404", err)
	}
}

func TestEnforceAllowed(t *testing.T) {
	s := start(t, Options{EnforceAllowed: true})
	s.AddUser(User{Name: "alice", LoginProfile: true})
	s.AddUser(User{Name: "admin", LoginProfile: true})
	s.SetAllowed([]Rule{
		{Action: "iam:UpdateLoginProfile", Resource: "arn:aws:iam::123456789012:user/*"},
		{Action: "iam:UpdateLoginProfile", Resource: "arn:aws:iam::123456789012:user/admin", Deny: true},
	})
	c := iamClient(s, noRetry)
	stsOut, err := stsClient(s).GetCallerIdentity(t.Context(), nil)
	if err != nil || aws.ToString(stsOut.Account) != AccountID {
		t.Errorf("GetCallerIdentity under enforcement = %v; want it always allowed", err)
	}
	tests := []struct {
		user     string
		wantCode string
	}{
		{"alice", ""},
		{"admin", "AccessDenied"},
		{"nobody", "NoSuchEntity"}, // allowed by the rule, then not found
	}
	for _, tt := range tests {
		_, err := c.UpdateLoginProfile(t.Context(), &iam.UpdateLoginProfileInput{UserName: aws.String(tt.user), Password: aws.String("Abcdefgh1!xyz")})
		var ae smithy.APIError
		switch {
		case tt.wantCode == "" && err != nil:
			t.Errorf("UpdateLoginProfile(%s) = %v; want success", tt.user, err)
		case tt.wantCode != "" && (!errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode):
			t.Errorf("UpdateLoginProfile(%s) = %v; want %s", tt.user, err, tt.wantCode)
		}
	}
	_, err = c.GetUser(t.Context(), &iam.GetUserInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || httpStatus(err) != 403 {
		t.Errorf("GetUser without a rule = %v; want AccessDenied 403", err)
	}
}
