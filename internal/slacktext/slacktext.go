// Package slacktext builds the Slack message text and blocks the bot
// sends. It is the one place outside text is escaped, so nothing a person
// or a configuration supplies can mention @channel, ping someone or forge a
// link in a message.
package slacktext

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes text safe inside Slack mrkdwn (Slack's "Escaping text").
func Escape(s string) string { return escaper.Replace(s) }

// Code puts text in a code span. A backtick would end the span early, so it
// becomes a quote (IAM names and generated passwords never hold one).
func Code(s string) string { return "`" + strings.ReplaceAll(Escape(s), "`", "'") + "`" }

// Mention renders a Slack user ID as a mention. IDs are checked before they
// get here; escaping anyway keeps a forged one from becoming markup.
func Mention(userID string) string { return "<@" + Escape(userID) + ">" }

// Link is a link to u showing label.
func Link(u, label string) string { return "<" + Escape(u) + "|" + Escape(label) + ">" }

// Date renders t in each reader's own time zone, with a UTC fallback.
func Date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// Section is a mrkdwn section block.
func Section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// Context is a small-print mrkdwn context block.
func Context(text string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
}

// Message is what the bot posts: fallback text, which notifications and
// screen readers use, and the blocks that are shown.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// Plain is a message of one section with the same text.
func Plain(text string) Message { return Message{Text: text, Blocks: []slack.Block{Section(text)}} }

// Options returns the chat.* options that send m. The text is already
// escaped where needed, so slack-go must not escape it again.
func (m Message) Options() []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

// Button is a button the bot sends; Value comes back in the click.
type Button struct {
	ActionID, Value, Label string
	Style                  string // "", "primary" or "danger"
}

// Actions is an actions block of buttons. The label is plain text, so it
// needs no escaping.
func Actions(blockID string, buttons ...Button) slack.Block {
	elems := make([]slack.BlockElement, 0, len(buttons))
	for _, b := range buttons {
		e := slack.NewButtonBlockElement(b.ActionID, b.Value, slack.NewTextBlockObject(slack.PlainTextType, b.Label, false, false))
		e.Style = slack.Style(b.Style)
		elems = append(elems, e)
	}
	return slack.NewActionBlock(blockID, elems...)
}

// NewMessage is a message of fallback text and blocks.
func NewMessage(text string, blocks ...slack.Block) Message {
	return Message{Text: text, Blocks: blocks}
}
