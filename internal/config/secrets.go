package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"
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
// every problem at once, one per token, and never a token itself.
func SecretsFromEnv(getenv func(string) string) (Secrets, error) {
	var errs []error
	read := func(name, prefix, want string) string {
		value, from, err := readToken(getenv, name)
		if err == nil {
			err = checkToken(from, value, prefix, want)
		}
		if err != nil {
			errs = append(errs, err)
			return ""
		}
		return value
	}
	s := Secrets{
		AppToken: read(EnvAppToken, "xapp-", "an app-level token (xapp-…) with connections:write"),
		BotToken: read(EnvBotToken, "xoxb-", "a bot token (xoxb-…)"),
	}
	var err error
	if s.DatabaseURL, err = DatabaseURLFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// readToken returns the token in the variable name, or in the file that
// name_FILE names, and which of the two it came from. A problem with the
// file is the only problem reported for that token: the operator chose the
// file, so "name is not set" would contradict them.
func readToken(getenv func(string) string, name string) (value, from string, err error) {
	if v := getenv(name); v != "" {
		return strings.TrimSpace(v), name, nil
	}
	fileVar := name + "_FILE"
	file := getenv(fileVar)
	if file == "" {
		return "", name, nil
	}
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fileVar, fmt.Errorf("%s names %s, which does not exist", fileVar, file)
	case errors.Is(err, fs.ErrPermission):
		return "", fileVar, fmt.Errorf("%s names %s, which the bot is not allowed to read", fileVar, file)
	case err != nil:
		// The path error names the file and says why; it never holds
		// the file's content.
		return "", fileVar, fmt.Errorf("%s: %w", fileVar, err)
	}
	value = strings.TrimSpace(string(b))
	if value == "" {
		return "", fileVar, fmt.Errorf("%s names %s, which is empty: want %s in it", fileVar, file, name)
	}
	return value, fileVar, nil
}

// DatabaseURLFromEnv returns DATABASE_URL (or the contents of the file
// DATABASE_URL_FILE names): the whole PostgreSQL URL, password and all,
// which wins over store.postgres_url; "" when neither is set. It is read
// with the tokens, and by commands that need no tokens (audit). Errors
// name the variable, never its value.
func DatabaseURLFromEnv(getenv func(string) string) (string, error) {
	u, _, err := readToken(getenv, EnvDatabaseURL)
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

// checkToken says what is wrong with a token, if anything, never printing
// it: from is the variable it came from.
func checkToken(from, value, prefix, want string) error {
	switch {
	case value == "":
		return fmt.Errorf("%s is not set: want %s", from, want)
	case quoted(value):
		// A value copied with its quotes from a shell line or .env file.
		return fmt.Errorf("%s has quotes around it: remove them (want %s)", from, want)
	case strings.ContainsAny(value, " \t\r\n"):
		return fmt.Errorf("%s has spaces or line breaks in it: want %s alone", from, want)
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
	return fmt.Errorf("%s holds %s: want %s", from, kind, want)
}

// quoted reports whether s starts or ends with a quote mark.
func quoted(s string) bool {
	const quotes = "\"'`“”‘’"
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return strings.ContainsRune(quotes, first) || strings.ContainsRune(quotes, last)
}

// String redacts the tokens.
func (Secrets) String() string { return "Secrets{redacted}" }

// GoString redacts the tokens from %#v.
func (Secrets) GoString() string { return "config.Secrets{redacted}" }

// LogValue redacts the tokens from slog.
func (Secrets) LogValue() slog.Value { return slog.StringValue("redacted") }
