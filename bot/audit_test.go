package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

func TestAuditCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aws-reset.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	events := []request.AuditEvent{
		{Time: now.Add(-48 * time.Hour), RequestID: "ROLD0000000", Action: request.ActionRequested, Actor: "U0ALICE001", Target: "U0ALICE001", IAMUser: "alice"},
		{Time: now.Add(-time.Hour), RequestID: "RNEW0000000", Action: request.ActionRequested, Actor: "U0ALICE001", Target: "U0ALICE001", IAMUser: "alice",
			Reason: "locked out\tbefore\x1b[31m the\ndeploy"},
		{Time: now.Add(-time.Minute), RequestID: "RNEW0000000", Action: request.ActionDelivered, Actor: "U0ALICE001", Target: "U0ALICE001", IAMUser: "alice", Account: "prod", Outcome: "delivered"},
	}
	for _, e := range events {
		if err := st.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := writeConfig(t, fmt.Sprintf("store:\n  path: %s\nusers:\n  - slack_user: U0ALICE001\n    iam_user: alice\n", db))

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"audit", "--config", cfg}, &out, &errOut, nil); err != nil {
		t.Fatalf("audit = %v: %s", err, errOut.String())
	}
	if strings.Contains(out.String(), "ROLD0000000") || strings.Count(out.String(), "RNEW0000000") != 2 ||
		!strings.Contains(out.String(), "TIME") || !strings.Contains(out.String(), "ACCOUNT") || !strings.Contains(out.String(), "  prod  ") {
		t.Errorf("audit (last 24h) =\n%s", out.String())
	}
	if !strings.Contains(out.String(), "locked out before [31m the deploy") || strings.Contains(out.String(), "\x1b") {
		t.Errorf("audit does not show the reason on one line without control characters:\n%q", out.String())
	}

	out.Reset()
	if err := run(context.Background(), []string{"audit", "--config", cfg, "--since", "3d", "--json"}, &out, &errOut, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("audit --json --since 3d printed %d lines; want 3:\n%s", len(lines), out.String())
	}
	var last request.AuditEvent
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil || last.Action != "delivered" || last.IAMUser != "alice" || last.Account != "prod" {
		t.Errorf("last JSON line = %+v, %v", last, err)
	}
}
