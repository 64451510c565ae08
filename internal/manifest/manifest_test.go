package manifest

import (
	"go/ast"
	"go/types"
	"maps"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/tools/go/packages"

	"github.com/aws-reset-bot/aws-reset-bot/internal/botsource"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// configs are the configurations the tests render: no approval, approval
// by people, approval by a user group.
func configs() map[string]config.Config {
	plain := config.Default()
	plain.Users = []config.User{{SlackUser: "U012AB3CD", IAMUser: "jsmith"}}

	people := plain
	people.Slack.Command = "/pw-reset"
	people.Approval.Channel = "C0123ABCD"
	people.Approval.Approvers = []string{"U045EF6GH", "W0789IJKL"}

	groups := people
	groups.Approval.Approvers = []string{"U045EF6GH", "S0123MNOP"}

	// A user group listed without an approval channel is a config error,
	// and the bot never asks Slack about it: no usergroups:read.
	strayGroup := plain
	strayGroup.Approval.Approvers = []string{"S0123MNOP"}

	// An audit channel is one the bot must be in, as the approval one.
	audit := plain
	audit.Audit.Channel = "C0456AUDT"

	// No Home tab: no buttons at all without approvals.
	noHome := plain
	noHome.Home.Enabled = false

	// A reason asked for in a modal.
	reasons := people
	reasons.Approval.RequireReason = true

	return map[string]config.Config{"no approval": plain, "approvers": people, "user group": groups, "stray group": strayGroup,
		"audit channel": audit, "no home": noHome, "reasons": reasons}
}

// decoded is the manifest as a YAML reader sees it, independent of the
// Go types that wrote it.
type decoded struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
		MinorVersion int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Color       string `yaml:"background_color"`
	} `yaml:"display_information"`
	Features struct {
		AppHome map[string]bool `yaml:"app_home"`
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline *bool  `yaml:"always_online"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			Description  string `yaml:"description"`
			UsageHint    string `yaml:"usage_hint"`
			ShouldEscape *bool  `yaml:"should_escape"`
			URL          string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes map[string][]string `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions *struct {
			BotEvents []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled *bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     *bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    *bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled *bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

func render(t *testing.T, cfg config.Config) decoded {
	t.Helper()
	out, err := Build(cfg).YAML()
	if err != nil {
		t.Fatalf("YAML() error: %v", err)
	}
	var d decoded
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	dec.KnownFields(true) // every key written is one this test knows
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("manifest does not parse as YAML: %v\n%s", err, out)
	}
	return d
}

func TestBuild(t *testing.T) {
	base := []string{"chat:write", "commands", "im:write", "users:read"}
	tests := []struct {
		config      string
		command     string
		scopes      []string
		interactive bool // buttons
		approvers   bool // "@someone" in the usage hint
		home        bool
	}{
		{"no approval", "/aws-reset", base, true, false, true},
		{"no home", "/aws-reset", base, false, false, false},
		{"approvers", "/pw-reset", []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "users:read"}, true, true, true},
		{"reasons", "/pw-reset", []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "users:read"}, true, true, true},
		{"user group", "/pw-reset", []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "usergroups:read", "users:read"}, true, true, true},
		{"audit channel", "/aws-reset", []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "users:read"}, true, false, true},
		{"stray group", "/aws-reset", base, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			d := render(t, configs()[tt.config])
			if d.Metadata.MajorVersion != 1 {
				t.Errorf("_metadata.major_version = %d; want 1", d.Metadata.MajorVersion)
			}
			if d.DisplayInformation.Name != "AWS password reset" || d.DisplayInformation.Description == "" {
				t.Errorf("display_information = %+v; want the name and a description", d.DisplayInformation)
			}
			if len(d.DisplayInformation.Description) > 140 {
				t.Errorf("display_information.description is %d characters; Slack allows 140", len(d.DisplayInformation.Description))
			}
			if got := d.OAuthConfig.Scopes["bot"]; !slices.Equal(got, tt.scopes) {
				t.Errorf("oauth_config.scopes.bot = %q; want %q", got, tt.scopes)
			}
			if len(d.OAuthConfig.Scopes) != 1 {
				t.Errorf("oauth_config.scopes has %v; want bot scopes only", slices.Sorted(maps.Keys(d.OAuthConfig.Scopes)))
			}
			if len(d.Features.SlashCommands) != 1 {
				t.Fatalf("features.slash_commands has %d commands; want 1", len(d.Features.SlashCommands))
			}
			c := d.Features.SlashCommands[0]
			hint := "[help]" // "@someone" is for approvers
			if tt.approvers {
				hint = "[help | @someone]"
			}
			if c.Command != tt.command || c.UsageHint != hint || c.Description == "" || c.URL != "" {
				t.Errorf("slash command = %+v; want %s with the usage hint %q, a description and no URL", c, tt.command, hint)
			}
			if c.ShouldEscape == nil || !*c.ShouldEscape {
				t.Errorf("should_escape = %v; want true: the bot parses <@U…|name> mentions", c.ShouldEscape)
			}
			if want := strings.TrimPrefix(tt.command, "/"); d.Features.BotUser.DisplayName != want {
				t.Errorf("bot_user.display_name = %q; want %q", d.Features.BotUser.DisplayName, want)
			}
			if !d.Features.AppHome["messages_tab_enabled"] || !d.Features.AppHome["messages_tab_read_only_enabled"] {
				t.Errorf("app_home = %v; want a read-only messages tab for the DMs", d.Features.AppHome)
			}
			if d.Features.AppHome["home_tab_enabled"] != tt.home {
				t.Errorf("app_home.home_tab_enabled = %v; want %v", d.Features.AppHome["home_tab_enabled"], tt.home)
			}
			if events := d.Settings.EventSubscriptions; tt.home != (events != nil && slices.Equal(events.BotEvents, []string{"app_home_opened"})) {
				t.Errorf("settings.event_subscriptions = %+v; want app_home_opened only when the Home tab is on (%v)", events, tt.home)
			}
			flags := []struct {
				name string
				got  *bool
				want bool
			}{
				{"features.bot_user.always_online", d.Features.BotUser.AlwaysOnline, false},
				{"settings.interactivity.is_enabled", d.Settings.Interactivity.IsEnabled, tt.interactive},
				{"settings.socket_mode_enabled", d.Settings.SocketModeEnabled, true},
				{"settings.org_deploy_enabled", d.Settings.OrgDeployEnabled, false},
				{"settings.token_rotation_enabled", d.Settings.TokenRotationEnabled, false},
			}
			for _, f := range flags {
				if f.got == nil || *f.got != f.want {
					t.Errorf("%s = %v; want %v (written out, not left to Slack's default)", f.name, f.got, f.want)
				}
			}
		})
	}
}

// TestMethods pins the method → scope table to Slack's documentation, so a
// change to it is a deliberate one.
func TestMethods(t *testing.T) {
	want := map[string][]string{
		"auth.test":             nil,
		"users.info":            {"users:read"},
		"conversations.open":    {"im:write"},
		"conversations.info":    {"channels:read", "groups:read"},
		"chat.postEphemeral":    {"chat:write"},
		"chat.postMessage":      {"chat:write"},
		"chat.update":           {"chat:write"},
		"usergroups.users.list": {"usergroups:read"},
		"views.open":            nil,
		"views.publish":         nil,
	}
	got := Methods()
	for _, m := range slices.Sorted(maps.Keys(want)) {
		if s, ok := got[m]; !ok || !slices.Equal(s, want[m]) {
			t.Errorf("Methods()[%q] = %q, %v; want %q", m, s, ok, want[m])
		}
	}
	for m := range got {
		if _, ok := want[m]; !ok {
			t.Errorf("Methods() has %q; add it to this test with the scope Slack documents for it", m)
		}
	}
	got["auth.test"] = []string{"admin"}
	got["conversations.info"][0] = "admin"
	if Methods()["auth.test"] != nil || Methods()["conversations.info"][0] != "channels:read" {
		t.Error("Methods() returned the table itself; want a copy")
	}
}

// TestScopesMatchMethods checks, for each configuration, that every method
// the bot may call has its scope in the manifest, and that every scope in
// the manifest is needed by the slash command or by some method.
func TestScopesMatchMethods(t *testing.T) {
	scopeOf := Methods()
	for name, cfg := range configs() {
		t.Run(name, func(t *testing.T) {
			granted := map[string]bool{}
			for _, s := range render(t, cfg).OAuthConfig.Scopes["bot"] {
				granted[s] = true
			}
			used := map[string]bool{ScopeCommands: true} // the slash command itself
			for _, m := range MethodsFor(cfg) {
				for _, s := range scopeOf[m] {
					used[s] = true
					if !granted[s] {
						t.Errorf("the bot may call %s, which needs %s; the manifest does not grant it", m, s)
					}
				}
			}
			for s := range granted {
				if !used[s] {
					t.Errorf("the manifest grants %s, which no method the bot calls under this config needs", s)
				}
			}
		})
	}
}

// slackGoMethods names the Web API method behind each slack-go call the
// bot makes.
var slackGoMethods = map[string]string{
	"AuthTestContext":            "auth.test",
	"GetUserInfoContext":         "users.info",
	"OpenConversationContext":    "conversations.open",
	"PostEphemeralContext":       "chat.postEphemeral",
	"PostMessageContext":         "chat.postMessage",
	"UpdateMessageContext":       "chat.update",
	"GetUserGroupMembersContext": "usergroups.users.list",
	"GetConversationInfoContext": "conversations.info",
	"OpenViewContext":            "views.open",
	"PublishViewContext":         "views.publish",
}

// appTokenMethods names the Web API method behind each slack-go call the
// bot makes with its app-level token ("bot check --live" proves Socket
// Mode will connect). That token's one scope, AppLevelScope, is granted by
// hand, not by the manifest, so Methods does not list these.
var appTokenMethods = map[string]string{
	"StartSocketModeContext": "apps.connections.open",
}

// TestCodeCalls type-checks the packages compiled into the bot binary and
// finds every call of a *slack.Client method, so a call added anywhere
// without its scope here, or a method listed here that is no longer
// called, fails.
func TestCodeCalls(t *testing.T) {
	called := slackCalls(t, botPackages(t))
	if len(called) == 0 {
		t.Fatal("found no calls of slack-go client methods; is the walk looking in the right place?")
	}
	listed := Methods()
	calledMethods := map[string]bool{}
	for fn, where := range called {
		if _, ok := appTokenMethods[fn]; ok {
			continue
		}
		m, ok := slackGoMethods[fn]
		switch {
		case !ok:
			t.Errorf("%s: calls slack-go's %s, which is not in slackGoMethods: name its Web API method there and its scope in Methods", where, fn)
			continue
		case !hasKey(listed, m):
			t.Errorf("%s: %s calls %s, which Methods does not list with its scope", where, fn, m)
		}
		calledMethods[m] = true
	}
	for m := range listed {
		if !calledMethods[m] {
			t.Errorf("Methods lists %s, but no code calls it: drop it and any scope only it needed", m)
		}
	}
}

const slackPath = "github.com/slack-go/slack"

// slackCalls returns where pkgs use each method of slack-go's client: on
// a *slack.Client, on a type that embeds one (socketmode.Client), or
// through an interface *slack.Client satisfies (the small interfaces the
// bot declares where it calls Slack). A method value counts as a call. A
// method of the same name on any other type, such as the workflow's
// Messenger, does not.
func slackCalls(t *testing.T, pkgs []*packages.Package) map[string]string {
	t.Helper()
	client := slackClient(t, pkgs)
	called := map[string]string{} // slack-go method → where
	for _, p := range pkgs {
		for _, file := range p.Syntax {
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				s := p.TypesInfo.Selections[sel]
				if s == nil || s.Kind() == types.FieldVal {
					return true // a package's name, or a field
				}
				fn := s.Obj().(*types.Func)
				// Debug, Debugf, Debugln: not API calls, and loggers share the names.
				if !strings.HasPrefix(fn.Name(), "Debug") && reachesSlack(fn, client) {
					called[fn.Name()] = p.Fset.Position(sel.Sel.Pos()).String()
				}
				return true
			})
		}
	}
	return called
}

// reachesSlack reports whether a call of fn is a call of slack-go's
// client: fn is declared on slack.Client (promoted methods keep that
// receiver), or on an interface that client satisfies.
func reachesSlack(fn *types.Func, client *types.Pointer) bool {
	recv := fn.Signature().Recv()
	if recv == nil {
		return false
	}
	t := recv.Type()
	if iface, ok := t.Underlying().(*types.Interface); ok {
		return types.Implements(client, iface)
	}
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	return types.Identical(t, client.Elem())
}

// slackClient returns the type *slack.Client as pkgs import it.
func slackClient(t *testing.T, pkgs []*packages.Package) *types.Pointer {
	t.Helper()
	for _, p := range pkgs {
		for _, imp := range p.Types.Imports() {
			if imp.Path() != slackPath {
				continue
			}
			if tn, ok := imp.Scope().Lookup("Client").(*types.TypeName); ok {
				return types.NewPointer(tn.Type())
			}
		}
	}
	t.Fatalf("no package of the bot imports %s", slackPath)
	return nil
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// botPackages returns the packages compiled into the bot binary, with
// their types.
func botPackages(t *testing.T) []*packages.Package {
	t.Helper()
	pkgs, err := botsource.Packages()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestBuildAccounts: the account buttons need interactivity, approvals or
// not, and the hint says an account may be named.
func TestBuildAccounts(t *testing.T) {
	for _, approvals := range []bool{false, true} {
		cfg := config.Default()
		cfg.AWS.Accounts = []config.Account{{Name: "prod", RoleARN: "arn:aws:iam::111111111111:role/r"}}
		hint := "[help | account]"
		if approvals {
			cfg.Approval.Channel, cfg.Approval.Approvers = "C0APPROVE1", []string{"U0ADMIN001"}
			hint = "[help | account | @someone account]"
		}
		d := render(t, cfg)
		if e := d.Settings.Interactivity.IsEnabled; e == nil || !*e {
			t.Errorf("approvals %v: interactivity = %v; want on for the account buttons", approvals, e)
		}
		if got := d.Features.SlashCommands[0].UsageHint; got != hint {
			t.Errorf("approvals %v: usage hint = %q; want %q", approvals, got, hint)
		}
	}
}

// TestBuildAccountApproval: approvals set only for one account still need
// the channel and user-group scopes.
func TestBuildAccountApproval(t *testing.T) {
	cfg := config.Default()
	ch := "C0PRODAPP1"
	cfg.AWS.Accounts = []config.Account{{Name: "prod", RoleARN: "arn:aws:iam::111111111111:role/r",
		Approval: &config.ApprovalOverride{Channel: &ch, Approvers: []string{"S0PRODADM1"}}}}
	scopes := render(t, cfg).OAuthConfig.Scopes["bot"]
	for _, want := range []string{"channels:read", "groups:read", "usergroups:read"} {
		if !slices.Contains(scopes, want) {
			t.Errorf("scopes = %v; want %s for prod's approvers", scopes, want)
		}
	}
}
