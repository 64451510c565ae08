// Package manifest writes the Slack app manifest for a configuration: the
// app's name, its slash command, Socket Mode, and exactly the OAuth scopes
// the bot uses, no more. Paste the output into "Create New App → From an
// app manifest" at https://api.slack.com/apps.
//
// The scopes come from one table, [Methods], of the Web API methods the bot
// calls; a test checks the table against the calls in the bot's code, so
// a new call cannot ship without its scope, and a scope cannot outlive its
// last call.
package manifest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// Bot token scopes the bot may ask for.
const (
	// ScopeCommands lets the app add the slash command. No Web API method
	// needs it: Slack delivers the command over Socket Mode.
	ScopeCommands = "commands"
	// ScopeChatWrite covers chat.postMessage, chat.postEphemeral and
	// chat.update in conversations the bot is in (its DMs, and the approval
	// and audit channels it is invited to).
	ScopeChatWrite = "chat:write"
	// ScopeIMWrite lets conversations.open start a DM with one person.
	ScopeIMWrite = "im:write"
	// ScopeUsersRead lets users.info say whether a caller is a full,
	// active member of the workspace.
	ScopeUsersRead = "users:read"
	// ScopeUserGroupsRead lets usergroups.users.list expand approvers
	// given as user groups (S…).
	ScopeUserGroupsRead = "usergroups:read"
	// ScopeChannelsRead and ScopeGroupsRead let conversations.info say
	// whether the bot is in a public or a private channel: "bot check
	// --live" asks it about the approval and audit channels. Slack
	// demands the scope of the channel's kind, and a channel ID does not
	// tell which, so a config with such a channel needs both. They read
	// channels' names and membership, never messages.
	ScopeChannelsRead = "channels:read"
	ScopeGroupsRead   = "groups:read"
)

// AppLevelScope is the scope of the app-level token (SLACK_APP_TOKEN) that
// Socket Mode opens its connection with (apps.connections.open). App-level
// tokens are made by hand in the app's Basic Information page, so this
// scope is not in the manifest.
const AppLevelScope = "connections:write"

// use is how the bot uses one Web API method.
type use struct {
	scope string                   // "" = the method needs no scope
	also  []string                 // further scopes, where the one needed depends on the conversation's kind
	when  func(config.Config) bool // nil = under every configuration
}

// methods is the table behind [Methods] and [Scopes]: every Web API method
// the bot calls with its bot token.
var methods = map[string]use{
	"auth.test":             {},                                      // who the bot is, at start
	"users.info":            {scope: ScopeUsersRead},                 // is the caller a full, active member?
	"conversations.open":    {scope: ScopeIMWrite},                   // the DM a password is delivered in
	"chat.postEphemeral":    {scope: ScopeChatWrite},                 // the password itself, seen by one person
	"chat.postMessage":      {scope: ScopeChatWrite},                 // DM news, approval requests, the audit channel
	"chat.update":           {scope: ScopeChatWrite, when: approval}, // an approval request once decided
	"usergroups.users.list": {scope: ScopeUserGroupsRead, when: groupApprovers},
	"conversations.info":    {scope: ScopeChannelsRead, also: []string{ScopeGroupsRead}, when: channels}, // check --live: is the bot in them?
	"views.open":            {when: reasonModal},                                                         // the modal asking for a reason; views.* need no scope
	"views.publish":         {when: home},                                                                // the Home tab
}

// home reports whether the bot publishes Home tabs.
func home(cfg config.Config) bool { return cfg.Home.Enabled }

// reasonModal reports whether the bot may open the modal that asks for a
// reason.
func reasonModal(cfg config.Config) bool {
	return anyApproval(cfg, func(a config.Approval) bool { return a.Enabled() && a.RequireReason })
}

// Each of these holds when it holds for any account's approval settings
// (the top level's, or an aws.accounts[i].approval's).

func approval(cfg config.Config) bool { return anyApproval(cfg, config.Approval.Enabled) }

// channels reports whether the bot posts to a channel it must be in.
func channels(cfg config.Config) bool { return approval(cfg) || cfg.Audit.Channel != "" }

// groupApprovers reports whether an approver is named by user group, whose
// members the bot must list.
func groupApprovers(cfg config.Config) bool {
	return anyApproval(cfg, func(a config.Approval) bool {
		return a.Enabled() && slices.ContainsFunc(a.Approvers, config.IsUserGroupID)
	})
}

func anyApproval(cfg config.Config, f func(config.Approval) bool) bool {
	return slices.ContainsFunc(cfg.Approvals(), f)
}

// Methods returns every Slack Web API method the bot calls with its bot
// token, mapped to the bot scopes that allow it: usually one, none for
// auth.test, one per kind of conversation for conversations.info. The map
// is a copy.
func Methods() map[string][]string {
	out := make(map[string][]string, len(methods))
	for m, u := range methods {
		out[m] = u.scopes()
	}
	return out
}

func (u use) scopes() []string {
	if u.scope == "" {
		return nil
	}
	return append([]string{u.scope}, u.also...)
}

// MethodsFor returns, sorted, the methods the bot can call under cfg.
func MethodsFor(cfg config.Config) []string {
	var out []string
	for m, u := range methods {
		if u.when == nil || u.when(cfg) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// Scopes returns, sorted, the bot scopes cfg needs: the slash command's
// and those of the methods in [MethodsFor].
func Scopes(cfg config.Config) []string {
	set := map[string]bool{ScopeCommands: true}
	for _, m := range MethodsFor(cfg) {
		for _, s := range methods[m].scopes() {
			set[s] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// The fixed words of the manifest.
const (
	AppName            = "AWS password reset"
	appDescription     = "Reset your own AWS console password from Slack."
	appColor           = "#232f3e"
	commandDescription = "Reset your AWS console password"
	// UsageHint is shown as people type the command. "@someone" is for
	// approvers, so it shows only when approvals are on (see [usageHint]).
	UsageHint = "[help | @someone]"
	// usageHintNoApproval is the hint without approvers: "@someone" would
	// only earn everyone a refusal.
	usageHintNoApproval = "[help]"
)

// Manifest is a Slack app manifest: the fields this bot sets, in the order
// Slack's own exports use.
type Manifest struct {
	Metadata           Metadata           `yaml:"_metadata"`
	DisplayInformation DisplayInformation `yaml:"display_information"`
	Features           Features           `yaml:"features"`
	OAuthConfig        OAuthConfig        `yaml:"oauth_config"`
	Settings           Settings           `yaml:"settings"`
}

// Metadata names the manifest schema version.
type Metadata struct {
	MajorVersion int `yaml:"major_version"`
	MinorVersion int `yaml:"minor_version"`
}

// DisplayInformation is how the app looks in Slack.
type DisplayInformation struct {
	Name            string `yaml:"name"`
	Description     string `yaml:"description"`
	BackgroundColor string `yaml:"background_color"`
}

// Features are the app's bot user, App Home and slash commands.
type Features struct {
	AppHome       AppHome        `yaml:"app_home"`
	BotUser       BotUser        `yaml:"bot_user"`
	SlashCommands []SlashCommand `yaml:"slash_commands"`
}

// AppHome configures the app's own page in Slack. Its Messages tab is the
// DM passwords arrive in; it is read-only because the bot reads no DMs, so
// nothing typed there (a password pasted back, say) would get an answer.
type AppHome struct {
	HomeTabEnabled             bool `yaml:"home_tab_enabled"`
	MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
	MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
}

// BotUser is the bot's name in Slack.
type BotUser struct {
	DisplayName  string `yaml:"display_name"`
	AlwaysOnline bool   `yaml:"always_online"`
}

// SlashCommand is one slash command. In Socket Mode it has no URL.
type SlashCommand struct {
	Command     string `yaml:"command"`
	Description string `yaml:"description"`
	UsageHint   string `yaml:"usage_hint"`
	// ShouldEscape makes Slack send "@someone" as <@U…|name>, the form
	// the bot parses; unescaped, it would be plain text.
	ShouldEscape bool `yaml:"should_escape"`
}

// OAuthConfig holds the scopes.
type OAuthConfig struct {
	Scopes OAuthScopes `yaml:"scopes"`
}

// OAuthScopes are the bot token's scopes; the bot asks for no user scopes.
type OAuthScopes struct {
	Bot []string `yaml:"bot"`
}

// Settings turn on Socket Mode, interactivity for buttons and modals, and
// the app_home_opened event for the Home tab.
type Settings struct {
	EventSubscriptions   *EventSubscriptions `yaml:"event_subscriptions,omitempty"`
	Interactivity        Interactivity       `yaml:"interactivity"`
	OrgDeployEnabled     bool                `yaml:"org_deploy_enabled"`
	SocketModeEnabled    bool                `yaml:"socket_mode_enabled"`
	TokenRotationEnabled bool                `yaml:"token_rotation_enabled"`
}

// EventSubscriptions are the events Slack sends over Socket Mode. The
// bot's only one is app_home_opened, which needs no scope.
type EventSubscriptions struct {
	BotEvents []string `yaml:"bot_events"`
}

// Interactivity says whether Slack sends button clicks (block_actions).
// In Socket Mode it needs no request URL.
type Interactivity struct {
	IsEnabled bool `yaml:"is_enabled"`
}

// usageHint is the slash command's hint for cfg: approvers start resets
// for others with "@someone", so without approvals there is none.
func usageHint(cfg config.Config) string {
	switch accounts := len(cfg.AWS.Accounts) > 0; {
	case accounts && approval(cfg):
		return "[help | account | @someone account]"
	case accounts:
		return "[help | account]"
	case approval(cfg):
		return UsageHint
	}
	return usageHintNoApproval
}

// interactive reports whether the bot sends buttons: approvals, the Home
// tab's, and the account buttons of someone listed in several of
// aws.accounts.
func interactive(cfg config.Config) bool {
	return approval(cfg) || cfg.Home.Enabled || len(cfg.AWS.Accounts) > 0
}

// Build returns the manifest for cfg. It needs no token and no network.
func Build(cfg config.Config) Manifest {
	return Manifest{
		Metadata: Metadata{MajorVersion: 1, MinorVersion: 1},
		DisplayInformation: DisplayInformation{
			Name:            AppName,
			Description:     appDescription,
			BackgroundColor: appColor,
		},
		Features: Features{
			AppHome: AppHome{HomeTabEnabled: cfg.Home.Enabled, MessagesTabEnabled: true, MessagesTabReadOnlyEnabled: true},
			BotUser: BotUser{DisplayName: strings.TrimPrefix(cfg.Slack.Command, "/")},
			SlashCommands: []SlashCommand{{
				Command:      cfg.Slack.Command,
				Description:  commandDescription,
				UsageHint:    usageHint(cfg),
				ShouldEscape: true,
			}},
		},
		OAuthConfig: OAuthConfig{Scopes: OAuthScopes{Bot: Scopes(cfg)}},
		Settings: Settings{
			EventSubscriptions: eventSubscriptions(cfg),
			// Buttons appear on approval requests, on the Home tab and on
			// the account choice.
			Interactivity:     Interactivity{IsEnabled: interactive(cfg)},
			SocketModeEnabled: true,
		},
	}
}

func eventSubscriptions(cfg config.Config) *EventSubscriptions {
	if !cfg.Home.Enabled {
		return nil
	}
	return &EventSubscriptions{BotEvents: []string{"app_home_opened"}}
}

// header is written above the manifest. YAML comments are ignored by
// Slack, so the output can be pasted as it is.
const header = `# Slack app manifest for aws-reset-bot, written by "bot manifest".
# Create the app from it at https://api.slack.com/apps ("From an app manifest").
# Then: Basic Information → App-Level Tokens → generate a token with the
# ` + AppLevelScope + ` scope (SLACK_APP_TOKEN, xapp-…), and Install App →
# Bot User OAuth Token (SLACK_BOT_TOKEN, xoxb-…).
# Changing the approval or audit settings can change the scopes: write it again
# and reinstall the app when they do.
`

// YAML renders the manifest, with a short comment on what to do next.
func (m Manifest) YAML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}
