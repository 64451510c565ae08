package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secrets are the Slack tokens. They come from the environment, never the
// config file, and they never print: String, GoString and LogValue all
// redact them.
type Secrets struct {
	AppToken string // xapp-…, for Socket Mode
	BotToken string // xoxb-…, for the Web API
}

// The environment variables that hold the tokens. A variable named with a
// _FILE suffix instead names a file that holds the token (for Kubernetes
// and Docker secrets).
const (
	EnvAppToken = "SLACK_APP_TOKEN"
	EnvBotToken = "SLACK_BOT_TOKEN"
)

// SecretsFromEnv reads the tokens with getenv (os.Getenv in production) and
// checks their kinds, naming a token put in the other's slot. It returns
// every problem at once.
func SecretsFromEnv(getenv func(string) string) (Secrets, error) {
	var errs []error
	read := func(name string) string {
		if v := getenv(name); v != "" {
			return strings.TrimSpace(v)
		}
		if file := getenv(name + "_FILE"); file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		return ""
	}
	s := Secrets{AppToken: read(EnvAppToken), BotToken: read(EnvBotToken)}
	errs = append(errs, checkToken(EnvAppToken, s.AppToken, "xapp-", "an app-level token (xapp-…) with connections:write")...)
	errs = append(errs, checkToken(EnvBotToken, s.BotToken, "xoxb-", "a bot token (xoxb-…)")...)
	return s, errors.Join(errs...)
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
