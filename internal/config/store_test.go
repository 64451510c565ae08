package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretPW is a password that must never appear in an error.
const secretPW = "pw-Q7-never-print"

func TestValidatePostgresURL(t *testing.T) {
	for _, tt := range []struct {
		url     string
		wantErr string // "" = valid
	}{
		{"postgres://bot@db.internal:5432/awsreset?sslmode=verify-full", ""},
		{"postgresql://bot@db.internal/awsreset", ""},
		{"postgres://bot:" + secretPW + "@db.internal:5432/awsreset", "store.postgres_url (line 6): holds a password"},
		{"postgres://bot@db.internal/awsreset?password=" + secretPW, "store.postgres_url (line 6): holds a password"},
		{"mysql://bot@db.internal/awsreset", "store.postgres_url (line 6): is not a postgres:// URL"},
		{"postgres://bot:" + secretPW + "@db internal:%zz/", "store.postgres_url (line 6): is not a URL"},
	} {
		cfg := mustParse(t, minimal+"store:\n  postgres_url: '"+tt.url+"'\n")
		err := cfg.Validate()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Validate(postgres_url %s) = %v; want nil", tt.url, err)
			}
			continue
		}
		lines := Problems(err)
		if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.wantErr) {
			t.Errorf("Validate(postgres_url) problems = %q; want one starting %q", lines, tt.wantErr)
		}
		if strings.Contains(strings.Join(lines, "\n"), secretPW) {
			t.Errorf("Validate(postgres_url) problems show the password: %q", lines)
		}
	}
}

func TestDatabaseURLFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "url")
	full := "postgres://bot:" + secretPW + "@db.internal/awsreset"
	if err := os.WriteFile(file, []byte(full+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"unset", nil, "", ""},
		{"variable, password and all", map[string]string{"DATABASE_URL": full}, full, ""},
		{"file", map[string]string{"DATABASE_URL_FILE": file}, full, ""},
		{"variable wins", map[string]string{"DATABASE_URL": "postgres://other@h/d", "DATABASE_URL_FILE": file}, "postgres://other@h/d", ""},
		{"missing file", map[string]string{"DATABASE_URL_FILE": filepath.Join(dir, "none")}, "", "DATABASE_URL_FILE names "},
		{"not postgres", map[string]string{"DATABASE_URL": "mysql://bot:" + secretPW + "@h/d"}, "", "DATABASE_URL: is not a postgres:// URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DatabaseURLFromEnv(func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Errorf("DatabaseURLFromEnv() = %q; want %q", got, tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("DatabaseURLFromEnv() = %v; want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("DatabaseURLFromEnv() = %v; want an error starting %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), secretPW):
				t.Errorf("DatabaseURLFromEnv() error shows the password: %v", err)
			}
		})
	}

	// SecretsFromEnv reads it with the tokens, and never prints it.
	s, err := SecretsFromEnv(func(k string) string {
		return map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "DATABASE_URL": full}[k]
	})
	if err != nil || s.DatabaseURL != full {
		t.Fatalf("SecretsFromEnv() DatabaseURL = %q, %v; want it", s.DatabaseURL, err)
	}
	if p := s.String() + s.GoString(); strings.Contains(p, secretPW) {
		t.Errorf("Secrets printed the password: %s", p)
	}
}
