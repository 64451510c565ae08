package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

func testAudit(t *testing.T, s Store) {
	events := []request.AuditEvent{ // appended in this order
		{Time: at(2 * time.Second), RequestID: "RAAAAAAAAA2", Action: request.ActionApproved,
			Actor: "UADMIN", Target: "UOWNER", IAMUser: "alice", Outcome: "ok"},
		{Time: at(0), RequestID: "RAAAAAAAAA2", Action: request.ActionRequested, Actor: "UOWNER", Target: "UOWNER", IAMUser: "alice",
			Account: "prod", Reason: "locked out <!channel>"},
		{Time: at(time.Second), Action: request.ActionRefused, Actor: "USTRANGER", Outcome: "not_allowed"},
		{Time: at(2 * time.Second), RequestID: "RAAAAAAAAA2", Action: request.ActionReset, IAMUser: "alice"},
		{Time: at(2*time.Second + time.Nanosecond), RequestID: "RAAAAAAAAA2", Action: request.ActionDelivered},
	}
	for _, e := range events {
		if err := s.AppendAudit(t.Context(), e); err != nil {
			t.Fatalf("AppendAudit(%s) = %v; want nil", e.Action, err)
		}
	}

	for _, tt := range []struct {
		name  string
		since time.Time
		want  []int // indexes into events, in the order expected
	}{
		{"everything", time.Time{}, []int{1, 2, 0, 3, 4}},
		{"from the first", at(0), []int{1, 2, 0, 3, 4}},
		{"one nanosecond later", at(time.Nanosecond), []int{2, 0, 3, 4}},
		{"ties kept in order", at(2 * time.Second).UTC(), []int{0, 3, 4}},
		{"last", at(2*time.Second + time.Nanosecond), []int{4}},
		{"after all", at(time.Hour), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Audit(t.Context(), tt.since)
			if err != nil {
				t.Fatalf("Audit(%v) = %v; want nil", tt.since, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Audit(%v) returned %d events; want %d", tt.since, len(got), len(tt.want))
			}
			for i, j := range tt.want {
				if d := diffEvent(got[i], events[j]); d != "" {
					t.Errorf("Audit(%v)[%d]: %s", tt.since, i, d)
				}
			}
		})
	}
}

func testAuditInvalid(t *testing.T, s Store) {
	for _, e := range []request.AuditEvent{
		{Action: request.ActionRequested},
		{Time: at(0)},
	} {
		if err := s.AppendAudit(t.Context(), e); err == nil {
			t.Errorf("AppendAudit(%+v) = nil; want an error", e)
		}
	}
	if got, err := s.Audit(t.Context(), time.Time{}); err != nil || len(got) != 0 {
		t.Errorf("Audit() after invalid appends = %d events, %v; want none", len(got), err)
	}
}

// diffEvent describes how got differs from want, or returns "".
func diffEvent(got, want request.AuditEvent) string {
	if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
		return fmt.Sprintf("Time = %v; want %v in UTC", got.Time, want.Time.UTC())
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		return fmt.Sprintf("got %+v; want %+v", got, want)
	}
	return ""
}

func testClaimOnce(t *testing.T, s Store) {
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"pending:RAAAAAAAAA2:1", true},
		{"pending:RAAAAAAAAA2:1", false},
		{"pending:RAAAAAAAAA2:2", true},
		{"pending:RBBBBBBBBB2:1", true},
		{"pending:RAAAAAAAAA2:1", false},
	} {
		got, err := s.ClaimOnce(t.Context(), tt.key, at(time.Minute))
		if err != nil || got != tt.want {
			t.Errorf("ClaimOnce(%q) = %v, %v; want %v, nil", tt.key, got, err, tt.want)
		}
	}
	if _, err := s.ClaimOnce(t.Context(), "", at(0)); err == nil {
		t.Errorf("ClaimOnce(%q) = nil error; want an error", "")
	}
}
