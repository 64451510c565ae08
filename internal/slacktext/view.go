package slacktext

import (
	"strings"

	"github.com/slack-go/slack"
)

// View is a modal or a Home tab the bot shows. The transport turns it into
// slack-go's view requests; the workflow never imports slack-go.
type View struct {
	// CallbackID names the view, so a submission can be told apart from
	// anything else; PrivateMetadata comes back with it unchanged.
	CallbackID, PrivateMetadata string
	// Title, Submit and Close are a modal's; a Home tab has none.
	Title, Submit, Close string
	Blocks               []slack.Block
}

// TextInput is an input block of one plain-text field, at most maxLen
// characters (Slack enforces it in the modal).
func TextInput(blockID, actionID, label, placeholder string, maxLen int) slack.Block {
	el := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, placeholder, false, false), actionID)
	el.Multiline = true
	el.MaxLength = maxLen
	return slack.NewInputBlock(blockID, slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil, el)
}

// Header is a header block of plain text.
func Header(text string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, text, false, false))
}

// Divider is a divider block.
func Divider() slack.Block { return slack.NewDividerBlock() }

// GroupMention renders a Slack user-group ID as a mention of the group.
func GroupMention(groupID string) string { return "<!subteam^" + Escape(groupID) + ">" }

// Quote renders text someone typed so that it reads exactly as typed and
// nothing in it acts: escaped (no mention, @channel or link), on one line,
// in a code span (no bold, italics, strike or links), its backticks
// turned into quotes.
func Quote(s string) string {
	return Code(strings.Join(strings.Fields(s), " "))
}

// Block is a Block Kit block, so callers can build views without naming
// slack-go.
type Block = slack.Block
