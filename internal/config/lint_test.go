package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"none", "users:\n  - slack_user: U0ALICE01\n    iam_user: alice\n", nil},
		{"example placeholders", "users:\n  - slack_user: U012AB3CD\n    iam_user: jsmith\n  - slack_user: U045EF6GH\n    iam_user: alee\n", []string{
			`users[0].slack_user (line 2): "U012AB3CD" is the placeholder from config.example.yaml`,
			`users[1].slack_user (line 4): "U045EF6GH" is the placeholder from config.example.yaml`,
		}},
		{"everyone protected by name", "reset:\n  protected: [ALICE, bob]\nusers:\n  - slack_user: U0ALICE01\n    iam_user: alice\n  - slack_user: U0BOB0001\n    iam_user: bob\n",
			[]string{"reset.protected (line 2): covers every listed user, so nobody can reset a password"}},
		{"everyone protected by the root path", "reset:\n  protected: [/]\nusers:\n  - slack_user: U0ALICE01\n    iam_user: alice\n",
			[]string{"reset.protected (line 2): covers every listed user"}},
		{"approval keys without a channel", "approval:\n  min_approvals: 2\n  require_reason: true\nusers:\n  - slack_user: U0ALICE01\n    iam_user: alice\n", []string{
			"approval.min_approvals (line 2): has no effect without approval.channel",
			"approval.require_reason (line 3): has no effect without approval.channel",
		}},
		{"someone left", "reset:\n  protected: [alice, /admin/]\nusers:\n  - slack_user: U0ALICE01\n    iam_user: alice\n  - slack_user: U0BOB0001\n    iam_user: bob\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.file)
			got := cfg.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("Warnings() = %q; want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i].Error(), tt.want[i]) {
					t.Errorf("warning %d = %q; want prefix %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestCheckStore(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "read-only")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		needsNonRoot     bool
	}{
		{"new file in a writable directory", filepath.Join(dir, "aws-reset.db"), "", false},
		{"existing file", file, "", false},
		{"missing directory", filepath.Join(dir, "missing", "aws-reset.db"), "does not exist: create it", false},
		{"file as directory", filepath.Join(file, "aws-reset.db"), "is not a directory", false},
		{"directory as file", dir, "is a directory: name the database file in it", false},
		{"read-only directory", filepath.Join(readOnly, "aws-reset.db"), "is not writable by this user", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsNonRoot && os.Geteuid() == 0 {
				t.Skip("root may write anywhere")
			}
			cfg := mustParse(t, "store:\n  path: "+tt.path+"\n"+minimal)
			err := cfg.CheckStore()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckStore(%s) = %v; want nil", tt.path, err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), "store.path (line 2): ") || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckStore(%s) = %v; want store.path (line 2): …%s…", tt.path, err, tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("CheckStore left files behind: %v", entries)
			}
		})
	}
}
