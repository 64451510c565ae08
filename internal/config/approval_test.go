package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseApprovalKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Approval
		home bool
	}{
		{"defaults", "users: []\n", Approval{Timeout: Duration(30 * time.Minute), MinApprovals: 1}, true},
		{"all keys", "approval:\n  channel: C0APPROVE1\n  approvers: [U0ADMIN001, S0ADMINS01]\n  timeout: 30m\n" +
			"  min_approvals: 2\n  require_reason: true\n  remind_after: 10m\nhome:\n  enabled: false\n",
			Approval{Channel: "C0APPROVE1", Approvers: []string{"U0ADMIN001", "S0ADMINS01"}, Timeout: Duration(30 * time.Minute),
				MinApprovals: 2, RequireReason: true, RemindAfter: Duration(10 * time.Minute)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.ApprovalFor("")
			if got.Channel != tt.want.Channel || strings.Join(got.Approvers, ",") != strings.Join(tt.want.Approvers, ",") ||
				got.Timeout != tt.want.Timeout || got.MinApprovals != tt.want.MinApprovals ||
				got.RequireReason != tt.want.RequireReason || got.RemindAfter != tt.want.RemindAfter {
				t.Errorf("ApprovalFor(\"\") = %+v; want %+v", got, tt.want)
			}
			if cfg.Home.Enabled != tt.home {
				t.Errorf("Home.Enabled = %v; want %v", cfg.Home.Enabled, tt.home)
			}
		})
	}
}

func TestValidateApprovalKeys(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Approval)
		want string // a problem's path; "" for none
	}{
		{"two of two", func(a *Approval) { a.MinApprovals = 2; a.Approvers = []string{"U0ADMIN001", "U0ADMIN002"} }, ""},
		{"three of two", func(a *Approval) { a.MinApprovals = 3; a.Approvers = []string{"U0ADMIN001", "U0ADMIN002"} }, "approval.min_approvals"},
		{"three with a group", func(a *Approval) { a.MinApprovals = 3; a.Approvers = []string{"U0ADMIN001", "S0ADMINS01"} }, ""},
		{"zero counts as one", func(a *Approval) { a.MinApprovals = 0 }, ""},
		{"negative", func(a *Approval) { a.MinApprovals = -1 }, "approval.min_approvals"},
		{"eleven", func(a *Approval) { a.MinApprovals = 11; a.Approvers = []string{"S0ADMINS01"} }, "approval.min_approvals"},
		{"remind after the timeout", func(a *Approval) { a.RemindAfter = Duration(time.Hour) }, "approval.remind_after"},
		{"remind before the timeout", func(a *Approval) { a.RemindAfter = Duration(10 * time.Minute) }, ""},
		{"negative reminder", func(a *Approval) { a.RemindAfter = Duration(-time.Minute) }, "approval.remind_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Users = []User{{SlackUser: "U012AB3CD", IAMUser: "jsmith"}}
			c.Approval.Channel = "C0APPROVE1"
			c.Approval.Approvers = []string{"U0ADMIN001"}
			tt.edit(&c.Approval)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v; want a problem with %s", err, tt.want)
			}
		})
	}
}

func TestApprovalWith(t *testing.T) {
	top := Approval{Channel: "C0TOP00001", Approvers: []string{"U0ADMIN001"}, Timeout: Duration(time.Hour), MinApprovals: 1}
	two, yes, ch := 2, true, "C0OTHER001"
	got := top.With(&ApprovalOverride{MinApprovals: &two, RequireReason: &yes, Channel: &ch})
	if got.MinApprovals != 2 || !got.RequireReason || got.Channel != ch || got.Timeout != top.Timeout || got.Approvers[0] != "U0ADMIN001" {
		t.Errorf("With = %+v", got)
	}
	if got := top.With(nil); got.Channel != top.Channel || got.MinApprovals != 1 {
		t.Errorf("With(nil) = %+v; want %+v", got, top)
	}
}
