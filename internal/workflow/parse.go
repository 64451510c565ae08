package workflow

import (
	"regexp"
	"strings"
)

// commandKind is what the slash command's text asks for.
type commandKind int

const (
	commandHelp       commandKind = iota
	commandSelf                   // reset my own password
	commandOther                  // an approver resets someone else's
	commandBadMention             // "@name" typed without Slack linking it
)

// parsedCommand is the text after the command, read:
//
//	[<@USER>] [ACCOUNT] [REASON…]
//
// ACCOUNT is a word only when it names a configured AWS account
// (aws.accounts[].name); whatever follows is the reason, the requester's
// own words, which are never read as markup.
type parsedCommand struct {
	kind    commandKind
	target  string // commandOther: the mentioned user's ID
	account string // "" when none was named
	reason  string
}

// mentionPattern matches a user mention as Slack escapes it in command
// text: <@U123ABC> or <@U123ABC|name>.
var mentionPattern = regexp.MustCompile(`^<@([UW][A-Z0-9]{6,})(\|[^<>]*)?>$`)

// maxCommandText bounds what is parsed; real commands are a few words.
const maxCommandText = 1000

// parseCommand reads the text after the command. isAccount says whether a
// word names a configured account. Text it can't read as the grammar above
// is a request for help, so nothing unexpected resets anything.
func parseCommand(text string, isAccount func(string) bool) parsedCommand {
	if len(text) > maxCommandText {
		return parsedCommand{kind: commandHelp}
	}
	t := strings.TrimSpace(text)
	switch strings.ToLower(t) {
	case "", "me", "reset":
		return parsedCommand{kind: commandSelf}
	case "help", "-h", "--help", "?":
		return parsedCommand{kind: commandHelp}
	}
	p := parsedCommand{kind: commandSelf}
	here := t // the text from the current word on, as typed
	first, rest := cutWord(here)
	if m := mentionPattern.FindStringSubmatch(first); m != nil {
		p.kind, p.target = commandOther, m[1]
		here = rest
		first, rest = cutWord(here)
		if strings.HasPrefix(first, "<@") {
			return parsedCommand{kind: commandHelp} // two people: which one?
		}
	} else if strings.HasPrefix(first, "<@") {
		return parsedCommand{kind: commandHelp} // a mention Slack did not make
	} else if strings.HasPrefix(first, "@") {
		return parsedCommand{kind: commandBadMention} // meant someone else, surely
	}
	if first != "" && isAccount != nil && isAccount(strings.ToLower(first)) {
		p.account = strings.ToLower(first)
		here = rest
	}
	p.reason = strings.TrimSpace(here) // the reason keeps its own spacing
	return p
}

// cutWord splits s at its first run of white space.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}
