package fakeaws

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestCredentialReport(t *testing.T) {
	clock := newClock()
	s := start(t, Options{Now: clock.Now})
	s.SetPasswordPolicy(&PasswordPolicy{MinimumPasswordLength: 8, MaxPasswordAge: 90})
	changed := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	used := time.Date(2024, 4, 30, 9, 30, 0, 0, time.UTC)
	s.AddUser(User{Name: "alice", LoginProfile: true, MFADevices: 1, PasswordCreated: changed, Created: changed.AddDate(-1, 0, 0)})
	s.SetPasswordLastUsed("alice", used)
	s.AddUser(User{Name: "bob", LoginProfile: true, PasswordCreated: changed})
	c := iamClient(s, noRetry)
	ctx := t.Context()

	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	var notPresent *types.CredentialReportNotPresentException
	if !errors.As(err, &notPresent) || httpStatus(err) != 410 {
		t.Fatalf("GetCredentialReport before Generate = %v (status %d); want CredentialReportNotPresentException 410", err, httpStatus(err))
	}

	gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeStarted {
		t.Fatalf("GenerateCredentialReport = %v, %v; want STARTED", gen, err)
	}
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatalf("GetCredentialReport: %v", err)
	}
	if out.ReportFormat != types.ReportFormatTypeTextCsv || !out.GeneratedTime.Equal(clock.Now()) {
		t.Errorf("GetCredentialReport format %q generated %v; want text/csv, %v", out.ReportFormat, out.GeneratedTime, clock.Now())
	}
	rows, err := csv.NewReader(bytes.NewReader(out.Content)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, out.Content)
	}
	if !equal(rows[0], CredentialReportColumns) || len(CredentialReportColumns) != 22 {
		t.Fatalf("header = %v; want %v", rows[0], CredentialReportColumns)
	}
	byUser := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, col := range rows[0] {
			m[col] = row[i]
		}
		byUser[row[0]] = m
	}
	if rows[1][0] != "<root_account>" || len(byUser) != 4 {
		t.Errorf("rows = %v; want root first, then alice, aws-reset-bot, bob", rows[1:])
	}
	want := map[string]map[string]string{
		"<root_account>": {"arn": "arn:aws:iam::123456789012:root", "password_enabled": "not_supported",
			"password_last_changed": "not_supported", "password_next_rotation": "not_supported"},
		"alice": {"arn": "arn:aws:iam::123456789012:user/alice", "user_creation_time": "2023-03-01T10:00:00+00:00",
			"password_enabled": "true", "password_last_used": "2024-04-30T09:30:00+00:00",
			"password_last_changed": "2024-03-01T10:00:00+00:00", "password_next_rotation": "2024-05-30T10:00:00+00:00",
			"mfa_active": "true", "access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "cert_2_last_rotated": "N/A"},
		"bob": {"password_enabled": "true", "password_last_used": "no_information", "mfa_active": "false"},
		"aws-reset-bot": {"password_enabled": "false", "password_last_used": "N/A", "password_last_changed": "N/A",
			"password_next_rotation": "N/A"},
	}
	for user, cols := range want {
		for col, v := range cols {
			if got := byUser[user][col]; got != v {
				t.Errorf("report[%s][%s] = %q; want %q", user, col, got, v)
			}
		}
	}

	gen, err = c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeComplete {
		t.Errorf("second GenerateCredentialReport = %v, %v; want COMPLETE", gen, err)
	}

	clock.Advance(4*time.Hour + time.Second)
	_, err = c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	var expired *types.CredentialReportExpiredException
	if !errors.As(err, &expired) || httpStatus(err) != 410 {
		t.Errorf("GetCredentialReport of a 4h-old report = %v (status %d); want CredentialReportExpiredException 410", err, httpStatus(err))
	}
	gen, err = c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeStarted {
		t.Errorf("GenerateCredentialReport after expiry = %v, %v; want STARTED", gen, err)
	}
}

func TestCredentialReportDelay(t *testing.T) {
	tests := []struct {
		delay     int
		wantState []types.ReportStateType // answers to successive Generate calls
		readyAt   int                     // Generate calls before Get succeeds
	}{
		{0, []types.ReportStateType{"COMPLETE", "COMPLETE"}, 1},
		{1, []types.ReportStateType{"STARTED", "COMPLETE"}, 1},
		{3, []types.ReportStateType{"STARTED", "INPROGRESS", "INPROGRESS", "COMPLETE"}, 3},
	}
	for _, tt := range tests {
		s := start(t, Options{})
		s.SetCredentialReportDelay(tt.delay)
		c := iamClient(s, noRetry)
		for i, want := range tt.wantState {
			gen, err := c.GenerateCredentialReport(t.Context(), &iam.GenerateCredentialReportInput{})
			if err != nil || gen.State != want {
				t.Fatalf("delay %d: Generate #%d = %v, %v; want %s", tt.delay, i+1, gen, err, want)
			}
			_, err = c.GetCredentialReport(t.Context(), &iam.GetCredentialReportInput{})
			var notReady *types.CredentialReportNotReadyException
			switch {
			case i+1 < tt.readyAt && (!errors.As(err, &notReady) || httpStatus(err) != 404):
				t.Errorf("delay %d: Get after %d Generate = %v; want CredentialReportNotReadyException 404", tt.delay, i+1, err)
			case i+1 >= tt.readyAt && err != nil:
				t.Errorf("delay %d: Get after %d Generate = %v; want the report", tt.delay, i+1, err)
			}
		}
	}
}
