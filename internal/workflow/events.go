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

	// parsed is set when the command was not typed but given by a modal
	// or a Home tab button, whose text is never parsed as a command.
	parsed *parsedCommand
}

// Click is a button click as the workflow sees it. The transport fills it
// from a block_actions payload with exactly one action; parseClick decides
// whether it is one of ours.
type Click struct {
	BlockID, ActionID, Value string
	UserID, UserTeamID       string
	TeamID, EnterpriseID     string
	ChannelID, MessageTS     string
	// View is the type of the view clicked in ("home" for the Home tab;
	// "" for a message); TriggerID lets the click open a modal.
	View, TriggerID string
}
