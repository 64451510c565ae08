package main

import (
	"bytes"
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
)

// The README is what a newcomer reads first: these tests hold its command
// names, flags and metric names against the code, as the manifest and
// policy tests hold the scopes and actions, so the two cannot drift.

// movingOut are commands the README may name that are not in commands().
var movingOut = map[string]bool{}

// flagsOf returns the flags a command's help lists, without dashes.
func flagsOf(t *testing.T, name string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"help", name}, &stdout, &stderr, noEnv); err != nil {
		t.Fatalf("run(help %s) = %v: %s", name, err, stderr.String())
	}
	_, list, _ := strings.Cut(stdout.String(), "\nflags:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z][a-z-]*)`).FindAllStringSubmatch(list, -1) {
		flags = append(flags, m[1])
	}
	return flags
}

// snippets returns the README's inline code and the lines of its code
// blocks: where commands are written to be typed.
func snippets(readme string) []string {
	var out []string
	inBlock := false
	for line := range strings.SplitSeq(readme, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			out = append(out, line)
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

var (
	// "bot run …" opening a snippet, "go run ./bot run …", or the image
	// name in "docker run … aws-reset-bot check …"; not prose like "the
	// bot token".
	botCommand = regexp.MustCompile(`(?:^bot|(?:^|\s)(?:\./bot|aws-reset-bot))\s+([a-z]+)(?:\s|$)([^|;&#]*)`)
	longFlag   = regexp.MustCompile(`(?:^|\s|\[)--([a-z][a-z-]*)`)
)

func TestREADMECommands(t *testing.T) {
	readme := string(readFile(t, "../README.md"))
	flags := map[string][]string{}
	for _, c := range commands() {
		flags[c.name] = flagsOf(t, c.name)
	}

	// Every command is in the README's table, with every flag it takes.
	_, table, _ := strings.Cut(readme, "\n## Commands\n")
	table, _, _ = strings.Cut(table, "\n## ")
	rows := map[string][]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `bot ([a-z]+)([^`]*)`").FindAllStringSubmatch(table, -1) {
		var fl []string
		for _, f := range longFlag.FindAllStringSubmatch(m[2], -1) {
			fl = append(fl, f[1])
		}
		slices.Sort(fl)
		rows[m[1]] = fl
	}
	for name, want := range flags {
		got, ok := rows[name]
		switch {
		case !ok:
			t.Errorf("README's Commands table has no row for `bot %s`", name)
		case !slices.Equal(got, want):
			t.Errorf("README's row for `bot %s` has flags %q; the command has %q", name, got, want)
		}
	}
	for name := range rows {
		if _, ok := flags[name]; !ok && !movingOut[name] {
			t.Errorf("README's Commands table has `bot %s`, which is no command", name)
		}
	}

	// Every command written anywhere to be typed exists, with those flags.
	n := 0
	for _, s := range snippets(readme) {
		for _, m := range botCommand.FindAllStringSubmatch(strings.TrimSpace(s), -1) {
			name := m[1]
			if movingOut[name] {
				continue
			}
			n++
			known, ok := flags[name]
			if !ok {
				t.Errorf("README: %q runs `bot %s`, which is no command", s, name)
				continue
			}
			for _, f := range longFlag.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(known, f[1]) {
					t.Errorf("README: %q passes --%s, which `bot %s` does not take (it takes %q)", s, f[1], name, known)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d commands in README's code; the pattern no longer matches how it writes them", n)
	}
}

// collecting is a prometheus.Registerer that keeps what is registered.
type collecting struct{ collectors []prometheus.Collector }

func (c *collecting) Register(col prometheus.Collector) error {
	c.collectors = append(c.collectors, col)
	return nil
}
func (c *collecting) MustRegister(cols ...prometheus.Collector) {
	c.collectors = append(c.collectors, cols...)
}
func (c *collecting) Unregister(prometheus.Collector) bool { return false }

// codeMetrics returns every metric internal/metrics registers, with its
// labels, as "name{a,b}" (or "name" without labels).
func codeMetrics(t *testing.T) map[string]string {
	reg := &collecting{}
	metrics.New(reg)
	descs := make(chan *prometheus.Desc, 64)
	for _, c := range reg.collectors {
		c.Describe(descs)
	}
	close(descs)
	// Desc has no accessors; its String is the only way to its parts.
	parse := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	out := map[string]string{}
	for d := range descs {
		m := parse.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read %s", d)
		}
		out[m[1]] = withLabels(m[1], m[2])
	}
	if len(out) < 10 {
		t.Fatalf("found %d metrics in internal/metrics: %v", len(out), out)
	}
	return out
}

func withLabels(name, labels string) string {
	if labels == "" {
		return name
	}
	l := strings.Split(labels, ",")
	slices.Sort(l)
	return name + "{" + strings.Join(l, ",") + "}"
}

func TestREADMEMetrics(t *testing.T) {
	readme := string(readFile(t, "../README.md"))
	code := codeMetrics(t)
	mention := regexp.MustCompile(`awsreset_[a-z0-9_]+(\{[a-z_,]*\})?`)

	// The metrics table lists each with its labels.
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\s*\\| `(awsreset_[^`]+)`").FindAllStringSubmatch(readme, -1) {
		name, labels, _ := strings.Cut(m[1], "{")
		listed[name] = true
		if got, want := withLabels(name, strings.TrimSuffix(labels, "}")), code[name]; got != want {
			t.Errorf("README's metrics table lists %s; the code has %q", m[1], want)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(code)) {
		if !listed[name] {
			t.Errorf("README's metrics table lacks %s", code[name])
		}
	}
	// Any other mention names a metric that exists, with its labels if given.
	for _, m := range mention.FindAllStringSubmatch(readme, -1) {
		name := strings.TrimSuffix(m[0], m[1])
		want, ok := code[name]
		switch {
		case !ok:
			t.Errorf("README names %s, which internal/metrics does not register", m[0])
		case m[1] != "" && withLabels(name, strings.Trim(m[1], "{}")) != want:
			t.Errorf("README writes %s; the code has %s", m[0], want)
		}
	}
}

// TestGoVersionsAgree: the README says which Go the module needs, as
// go.mod does, and the Dockerfile builds with at least that.
func TestGoVersionsAgree(t *testing.T) {
	gomod := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(?:\.(\d+))?$`).FindStringSubmatch(string(readFile(t, "../go.mod")))
	if gomod == nil {
		t.Fatal("go.mod has no go line")
	}
	directive := strings.TrimPrefix(gomod[0], "go ")
	if readme := string(readFile(t, "../README.md")); !strings.Contains(readme, "`go "+directive+"`") {
		t.Errorf("README does not say go.mod's `go %s`", directive)
	}
	image := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\d+)\.(\d+)(?:\.(\d+))?$`).FindStringSubmatch(string(readFile(t, "../Dockerfile")))
	if image == nil {
		t.Fatal("Dockerfile has no ARG GO_VERSION=MAJOR.MINOR[.PATCH]")
	}
	// golang:1.26 is the newest 1.26 patch release; golang:1.26.3 is that one.
	for i := 1; i <= 3; i++ {
		if image[i] == "" {
			break
		}
		img, mod := atoi(image[i]), atoi(gomod[i])
		if img > mod {
			break
		}
		if img < mod {
			t.Fatalf("Dockerfile builds with Go %s, older than go.mod's go %s", strings.TrimPrefix(image[0], "ARG GO_VERSION="), directive)
		}
	}
}

// atoi reads digits the pattern matched.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
