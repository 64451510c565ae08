package workflow

// Command is a slash command as the workflow sees it: what was typed, by
// whom, from where. The transport fills it from Slack's payload.
type Command struct {
	EnvelopeID   string // Slack's envelope, so a redelivery creates nothing
	Command      string // "/aws-reset"
	Text         string
	UserID       string
	TeamID       string
	EnterpriseID string
	ChannelID    string
	TriggerID    string
}

// Click is a button click as the workflow sees it. The transport fills it
// from a block_actions payload with exactly one action; parseClick decides
// whether it is one of ours.
type Click struct {
	BlockID, ActionID, Value string
	UserID, UserTeamID       string
	TeamID, EnterpriseID     string
	ChannelID, MessageTS     string
}
