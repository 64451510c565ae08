// Package botsource lists the Go files compiled into the bot binary, so
// tests can check that what the bot calls (Slack methods, IAM actions)
// matches what the manifest and the IAM policy grant.
package botsource

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Module is this module's path.
const Module = "github.com/aws-reset-bot/aws-reset-bot"

// Files returns the module's non-test Go files that the bot binary
// (./bot) is built from. It runs `go list`, so it needs the go command.
func Files() ([]string, error) {
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{.ImportPath}}{{range .GoFiles}} {{$.Dir}}/{{.}}{{end}}`, Module+"/bot").Output()
	if err != nil {
		return nil, fmt.Errorf("go list the bot's packages: %w", err)
	}
	var files []string
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) > 1 && (fields[0] == Module || strings.HasPrefix(fields[0], Module+"/")) {
			files = append(files, fields[1:]...)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("go list found no sources of the bot")
	}
	return files, nil
}
