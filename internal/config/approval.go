package config

// Home configures the app's Home tab (see package workflow's home.go).
type Home struct {
	// Enabled publishes each person's Home tab when they open it, and makes
	// `bot manifest` ask for the Home tab and the app_home_opened event.
	Enabled bool `yaml:"enabled"`
}

// ApprovalOverride is an account's own approval settings
// (aws.accounts[i].approval): each key that is set replaces the top
// level's for that account; absent keys keep it.
type ApprovalOverride struct {
	Channel       *string   `yaml:"channel"`
	Approvers     []string  `yaml:"approvers"` // nil: the top level's
	Timeout       *Duration `yaml:"timeout"`
	MinApprovals  *int      `yaml:"min_approvals"`
	RequireReason *bool     `yaml:"require_reason"`
	RemindAfter   *Duration `yaml:"remind_after"`
}

// With returns a with o's settings over it. A nil o changes nothing.
func (a Approval) With(o *ApprovalOverride) Approval {
	if o == nil {
		return a
	}
	if o.Channel != nil {
		a.Channel = *o.Channel
	}
	if o.Approvers != nil {
		a.Approvers = o.Approvers
	}
	if o.Timeout != nil {
		a.Timeout = *o.Timeout
	}
	if o.MinApprovals != nil {
		a.MinApprovals = *o.MinApprovals
	}
	if o.RequireReason != nil {
		a.RequireReason = *o.RequireReason
	}
	if o.RemindAfter != nil {
		a.RemindAfter = *o.RemindAfter
	}
	return a
}

// ApprovalFor returns the approval settings that hold for requests in the
// named AWS account ("" is the bot's own account): the top level, with the
// account's aws.accounts[i].approval over it.
func (c *Config) ApprovalFor(account string) Approval {
	if a, ok := c.AWS.Account(account); ok {
		return c.Approval.With(a.Approval)
	}
	return c.Approval
}

// Approvals returns the approval settings of the bot's own account and of
// every account of aws.accounts, for what any of them needs (the
// manifest's scopes, the live check's channels).
func (c *Config) Approvals() []Approval {
	out := []Approval{c.Approval}
	for _, a := range c.AWS.Accounts {
		out = append(out, c.Approval.With(a.Approval))
	}
	return out
}

// Need returns how many distinct approvers must approve: at least one.
func (a Approval) Need() int { return max(1, a.MinApprovals) }
