// Package botsource loads the Go packages compiled into the bot binary,
// with their types, so tests can check that what the bot calls (Slack
// methods, IAM actions) matches what the manifest and the IAM policy
// grant. A type, not a name, decides what a call reaches.
package botsource

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Module is this module's path.
const Module = "github.com/aws-reset-bot/aws-reset-bot"

// Packages returns this module's packages that the bot binary (./bot) is
// built from, without their tests, parsed and type-checked. It runs the
// go command. Only these packages are parsed; their dependencies' types
// come from export data, which keeps the load to a few seconds.
func Packages() ([]*packages.Package, error) {
	paths, err := botPackages()
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
		packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, paths...)
	if err != nil {
		return nil, fmt.Errorf("load the bot's packages: %w", err)
	}
	var errs []error
	for _, p := range pkgs {
		for _, e := range p.Errors {
			errs = append(errs, fmt.Errorf("%s: %v", p.PkgPath, e))
		}
	}
	if len(errs) > 0 {
		// A package that does not type-check would hide its calls.
		return nil, fmt.Errorf("load the bot's packages: %w", errors.Join(errs...))
	}
	if len(pkgs) != len(paths) {
		return nil, fmt.Errorf("load the bot's packages: loaded %d of %d", len(pkgs), len(paths))
	}
	return pkgs, nil
}

// botPackages lists the import paths of this module's packages that
// ./bot imports, directly or not, and ./bot itself.
func botPackages() ([]string, error) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", Module+"/bot").Output()
	if err != nil {
		return nil, fmt.Errorf("go list the bot's packages: %w", err)
	}
	var paths []string
	for line := range strings.Lines(string(out)) {
		p := strings.TrimSpace(line)
		if p == Module || strings.HasPrefix(p, Module+"/") {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("go list found no packages of the bot")
	}
	return paths, nil
}
