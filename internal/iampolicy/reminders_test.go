package iampolicy

import (
	"slices"
	"testing"
)

// TestReminderActions checks that the credential report actions are in
// the policy only when reminders are on, account-wide as IAM requires, and
// that GetLoginProfile, the reminders' fallback, is on the listed users.
func TestReminderActions(t *testing.T) {
	report := []string{"iam:GenerateCredentialReport", "iam:GetCredentialReport"}
	tests := []struct {
		name    string
		enabled bool
	}{{"reminders off", false}, {"reminders on", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := listed("jsmith")
			cfg.Reminders.Enabled = tt.enabled
			p := parse(t, Build(cfg, "123456789012", "aws"))
			where := map[string][]string{} // action -> resources
			for _, st := range p.Statement {
				for _, a := range st.Action {
					where[a] = append(where[a], st.Resource...)
				}
			}
			for _, a := range report {
				res, ok := where[a]
				if ok != tt.enabled {
					t.Errorf("Build(reminders.enabled=%v) lists %s: %v; want %v", tt.enabled, a, ok, tt.enabled)
				}
				if ok && !slices.Equal(res, []string{"*"}) {
					t.Errorf("%s on %v; want Resource \"*\" (no resource-level permissions)", a, res)
				}
			}
			if res := where["iam:GetLoginProfile"]; !slices.Equal(res, []string{"arn:aws:iam::123456789012:user/jsmith"}) {
				t.Errorf("iam:GetLoginProfile on %v; want the listed user alone", res)
			}
		})
	}
	for _, a := range Actions() {
		if slices.Contains(report, a.Name) != !a.NeededFor(listed("jsmith")) {
			t.Errorf("%s.NeededFor(reminders off) = %v", a.Name, a.NeededFor(listed("jsmith")))
		}
	}
}
