package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
)

// Secrets are the Slack tokens, and the database URL when the environment
// gives one. They come from the environment, never the config file, and
// they never print: String, GoString and LogValue all redact them.
type Secrets struct {
	AppToken string // xapp-…, for Socket Mode
	BotToken string // xoxb-…, for the Web API
	// DatabaseURL is DATABASE_URL: the whole PostgreSQL URL, password
	// included, which wins over store.postgres_url. "" when unset.
	DatabaseURL string
}

// The environment variables that hold the tokens. A variable named with a
// _FILE suffix instead names a file that holds the token (for Kubernetes
// and Docker secrets).
const (
	EnvAppToken    = "SLACK_APP_TOKEN"
	EnvBotToken    = "SLACK_BOT_TOKEN"
	EnvDatabaseURL = "DATABASE_URL"
)

// SecretsFromEnv reads the tokens with getenv (os.Getenv in production) and
// checks their kinds, naming a token put in the other's slot. It returns
// every problem at once.
func SecretsFromEnv(getenv func(string) string) (Secrets, error) {
	var errs []error
	read := func(name string) string {
		v, err := envOrFile(getenv, name)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	s := Secrets{AppToken: read(EnvAppToken), BotToken: read(EnvBotToken)}
	errs = append(errs, checkToken(EnvAppToken, s.AppToken, "xapp-", "an app-level token (xapp-…) with connections:write")...)
	errs = append(errs, checkToken(EnvBotToken, s.BotToken, "xoxb-", "a bot token (xoxb-…)")...)
	var err error
	if s.DatabaseURL, err = DatabaseURLFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// envOrFile returns the variable name, or else the contents of the file
// that name_FILE names, trimmed; "" if neither is set.
func envOrFile(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return strings.TrimSpace(v), nil
	}
	if file := getenv(name + "_FILE"); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// DatabaseURLFromEnv returns DATABASE_URL (or the contents of the file
// DATABASE_URL_FILE names): the whole PostgreSQL URL, password and all,
// which wins over store.postgres_url; "" when neither is set. It is read
// with the tokens, and by commands that need no tokens (audit). Errors
// name the variable, never its value.
func DatabaseURLFromEnv(getenv func(string) string) (string, error) {
	u, err := envOrFile(getenv, EnvDatabaseURL)
	if err != nil || u == "" {
		return "", err
	}
	if err := checkPostgresURL(u, true); err != nil {
		return "", fmt.Errorf("%s: %w", EnvDatabaseURL, err)
	}
	return u, nil
}

// checkPostgresURL checks that s is a postgres:// URL, and, unless
// passwordOK, that it holds no password (in the user part or as a
// password parameter). Its errors never repeat s, which may hold one.
func checkPostgresURL(s string, passwordOK bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a URL (want postgres://user@host:5432/database?sslmode=verify-full)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return errors.New("is not a postgres:// URL (want postgres://user@host:5432/database?sslmode=verify-full)")
	}
	if passwordOK {
		return nil
	}
	if _, set := u.User.Password(); set || u.Query().Has("password") {
		return errors.New("holds a password: keep it out of the file; set PGPASSWORD or PGPASSFILE, or give the whole URL in DATABASE_URL (or DATABASE_URL_FILE)")
	}
	return nil
}

func checkToken(name, value, prefix, want string) []error {
	switch {
	case value == "":
		return []error{fmt.Errorf("%s is not set: want %s", name, want)}
	case strings.HasPrefix(value, prefix):
		return nil
	}
	kind := "an unknown kind of token"
	for p, k := range map[string]string{
		"xapp-": "an app-level token (xapp-…)", "xoxb-": "a bot token (xoxb-…)",
		"xoxp-": "a user token (xoxp-…)", "xoxe": "a refresh or config token",
	} {
		if strings.HasPrefix(value, p) {
			kind = k
		}
	}
	return []error{fmt.Errorf("%s holds %s: want %s", name, kind, want)}
}

// String redacts the tokens.
func (Secrets) String() string { return "Secrets{redacted}" }

// GoString redacts the tokens from %#v.
func (Secrets) GoString() string { return "config.Secrets{redacted}" }

// LogValue redacts the tokens from slog.
func (Secrets) LogValue() slog.Value { return slog.StringValue("redacted") }
