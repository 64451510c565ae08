package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoFakesInTheBinary checks that the binary that can reset passwords
// links none of the test fakes: a fake Slack or IAM in it would be code
// that answers as Slack or AWS, shipped where it is never needed. The demo
// and the load generator, which use them, are programs of their own.
func TestNoFakesInTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	// go test puts its own GOROOT/bin first in PATH, so this is the go
	// command running the test.
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps . = %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps . listed %d packages; want the bot's dependencies:\n%s", len(deps), out)
	}
	for _, pkg := range deps {
		if strings.Contains(pkg, "fakeslack") || strings.Contains(pkg, "fakeaws") || strings.Contains(pkg, "/fake") {
			t.Errorf("the bot's binary links %s; a test fake must stay out of it (move its user to a program of its own)", pkg)
		}
	}
}
