package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), nil, &stdout, &stderr); err != nil {
		t.Fatalf("demo = %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"bot → IAM     UpdateLoginProfile alice, Password=••••",
		"PasswordResetRequired=true",
		"bot → Slack   chat.postMessage [C0APPROVE1]",
		"Approved by <@U0ADMIN001>",
		"bot → IAM     UpdateLoginProfile bob",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "the password is the one IAM received: true"); n != 2 {
		t.Errorf("deliveries matching IAM = %d; want 2:\n%s", n, out)
	}
	if strings.Contains(out, "received: false") {
		t.Errorf("a delivered password differs from IAM's:\n%s", out)
	}
}
