package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// configFixture writes a config file into a temp dir and returns its path.
func configFixture(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noEnv is a getenv with nothing set: these commands need no tokens.
func noEnv(string) string { return "" }

const fixtureUsers = `
users:
  - slack_user: U012AB3CD
    iam_user: jsmith
  - slack_user: U045EF6GH
    iam_user: alee
`

func TestManifestCommand(t *testing.T) {
	tests := []struct {
		name        string
		config      string
		scopes      []string
		interactive bool
	}{
		{
			name:        "no approval",
			config:      fixtureUsers,
			scopes:      []string{"chat:write", "commands", "im:write", "users:read"},
			interactive: true, // the Home tab's button
		},
		{
			name:   "no approval, no Home tab",
			config: "home:\n  enabled: false\n" + fixtureUsers,
			scopes: []string{"chat:write", "commands", "im:write", "users:read"},
		},
		{
			name:        "approval by people",
			config:      "approval:\n  channel: C0123ABCD\n  approvers: [U045EF6GH]\n" + fixtureUsers,
			scopes:      []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "users:read"},
			interactive: true,
		},
		{
			name:        "approval by user group",
			config:      "approval:\n  channel: C0123ABCD\n  approvers: [S0123MNOP]\n" + fixtureUsers,
			scopes:      []string{"channels:read", "chat:write", "commands", "groups:read", "im:write", "usergroups:read", "users:read"},
			interactive: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			path := configFixture(t, tt.config)
			if err := run(context.Background(), []string{"manifest", "--config", path}, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("run(manifest) = %v; stderr:\n%s", err, stderr.String())
			}
			var m struct {
				Features struct {
					SlashCommands []struct {
						Command      string `yaml:"command"`
						ShouldEscape bool   `yaml:"should_escape"`
					} `yaml:"slash_commands"`
				} `yaml:"features"`
				OAuthConfig struct {
					Scopes struct {
						Bot []string `yaml:"bot"`
					} `yaml:"scopes"`
				} `yaml:"oauth_config"`
				Settings struct {
					Interactivity struct {
						IsEnabled bool `yaml:"is_enabled"`
					} `yaml:"interactivity"`
					SocketModeEnabled bool `yaml:"socket_mode_enabled"`
				} `yaml:"settings"`
			}
			if err := yaml.Unmarshal(stdout.Bytes(), &m); err != nil {
				t.Fatalf("stdout is not YAML: %v\n%s", err, stdout.String())
			}
			if got := m.OAuthConfig.Scopes.Bot; !slices.Equal(got, tt.scopes) {
				t.Errorf("scopes = %q; want %q", got, tt.scopes)
			}
			if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/aws-reset" || !m.Features.SlashCommands[0].ShouldEscape {
				t.Errorf("slash_commands = %+v; want /aws-reset with should_escape", m.Features.SlashCommands)
			}
			if m.Settings.Interactivity.IsEnabled != tt.interactive || !m.Settings.SocketModeEnabled {
				t.Errorf("settings = %+v; want interactivity %v and Socket Mode", m.Settings, tt.interactive)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q; want nothing", stderr.String())
			}
		})
	}
}

func TestManifestCommandBadConfig(t *testing.T) {
	tests := []struct {
		name, config, wantErr string
	}{
		{"invalid", "users: []\n", "users (line 1): the allowlist is empty"},
		{"unknown key", "slack:\n  comand: /x\n" + fixtureUsers, "comand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			path := configFixture(t, tt.config)
			err := run(context.Background(), []string{"manifest", "--config", path}, &stdout, &stderr, noEnv)
			if err == nil {
				t.Fatalf("run(manifest) = nil; want an error for %s", tt.name)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q; want nothing when the config is bad", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q; want it to mention %q", stderr.String(), tt.wantErr)
			}
		})
	}
}
