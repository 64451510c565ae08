package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAuditCommandDatabaseURL runs bot audit with DATABASE_URL set: it
// goes to PostgreSQL, and its error never shows the password.
func TestAuditCommandDatabaseURL(t *testing.T) {
	const secret = "pw-A9-never-print"
	cfg := writeConfig(t, "users:\n  - slack_user: U0ALICE001\n    iam_user: alice\n")
	env := map[string]string{"DATABASE_URL": "postgres://bot:" + secret + "@127.0.0.1:1/awsreset?sslmode=disable"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"audit", "--config", cfg}, &out, &errOut, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("audit with DATABASE_URL to port 1 = nil; want an error")
	}
	if all := err.Error() + out.String() + errOut.String(); strings.Contains(all, secret) {
		t.Errorf("audit printed the password: %s", all)
	}
}

// TestCheckRefusesPasswordInURL: bot check names the field and never
// prints the password.
func TestCheckRefusesPasswordInURL(t *testing.T) {
	const secret = "pw-C4-never-print"
	cfg := writeConfig(t, "store:\n  postgres_url: postgres://bot:"+secret+"@db.internal/awsreset\n"+
		"users:\n  - slack_user: U0ALICE001\n    iam_user: alice\n")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"check", "--config", cfg}, &out, &errOut, nil)
	all := out.String() + errOut.String()
	if err == nil || !strings.Contains(all, "store.postgres_url (line 2): holds a password") {
		t.Errorf("check = %v, %q; want a refusal naming store.postgres_url", err, all)
	}
	if strings.Contains(all, secret) {
		t.Errorf("check printed the password: %s", all)
	}
}
