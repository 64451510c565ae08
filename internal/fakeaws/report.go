package fakeaws

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"slices"
	"time"
)

// CredentialReportColumns are the credential report's CSV columns, in order,
// as IAM writes them in the header row.
var CredentialReportColumns = []string{
	"user", "arn", "user_creation_time",
	"password_enabled", "password_last_used", "password_last_changed", "password_next_rotation",
	"mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// reportTTL is how long a credential report stays current: IAM hands the same
// report out (and Generate answers COMPLETE) for four hours, after which
// GetCredentialReport answers ReportExpired.
const reportTTL = 4 * time.Hour

// reportState tracks GenerateCredentialReport's progress.
type reportState struct {
	generating bool // a generation is under way
	calls      int  // Generate calls in the current generation
	content    []byte
	generated  time.Time // zero: no report
}

// SetCredentialReportDelay sets how many GenerateCredentialReport calls a
// generation takes. With n (default 1) the first call answers STARTED, calls
// 2..n answer INPROGRESS, and the report is ready for GetCredentialReport
// once the n-th call is made; later calls answer COMPLETE (until the report
// is four hours old on the server's clock, when a new generation starts).
// n <= 0 makes the first call generate the report and answer COMPLETE.
//
// Until the report is ready GetCredentialReport answers ReportInProgress
// (404); before any Generate call, ReportNotPresent (410); once the report is
// over four hours old, ReportExpired (410). The report is a snapshot taken
// when it becomes ready, as IAM's is.
func (s *Server) SetCredentialReportDelay(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reportDelay = n
}

func (s *Server) generateCredentialReport(*request) (any, *apiError) {
	now := s.now()
	r := &s.report
	var state, desc string
	switch {
	case !r.generating && !r.generated.IsZero() && now.Sub(r.generated) < reportTTL:
		state = "COMPLETE"
	case !r.generating:
		r.generating, r.calls = true, 1
		r.generated, r.content = time.Time{}, nil
		state, desc = "STARTED", "No report exists. Starting a new report generation task"
		if s.reportDelay <= 0 {
			state, desc = "COMPLETE", ""
		}
	default:
		r.calls++
		state = "INPROGRESS"
	}
	if r.generating && r.calls >= s.reportDelay {
		r.generating = false
		r.generated = now
		r.content = s.credentialReportCSV(now)
	}
	return struct {
		State       string `xml:"State"`
		Description string `xml:"Description,omitempty"`
	}{state, desc}, nil
}

func (s *Server) getCredentialReport(*request) (any, *apiError) {
	r := &s.report
	switch {
	case r.generating:
		return nil, apiErr("ReportInProgress", "Report generation in progress. Try again later.")
	case r.generated.IsZero():
		return nil, apiErr("ReportNotPresent", "Credential report not present. Call GenerateCredentialReport first.")
	case s.now().Sub(r.generated) >= reportTTL:
		return nil, apiErr("ReportExpired", "Credential report has expired. Call GenerateCredentialReport to generate a new one.")
	}
	return struct {
		Content       string `xml:"Content"` // a blob: base64 on the wire
		ReportFormat  string `xml:"ReportFormat"`
		GeneratedTime string `xml:"GeneratedTime"`
	}{base64.StdEncoding.EncodeToString(r.content), "text/csv", isoTime(r.generated)}, nil
}

// credentialReportCSV renders the report for the account as it is at now.
// s.mu must be held.
//
// Values follow IAM's report: timestamps as 2006-01-02T15:04:05+00:00;
// booleans lower-case; "N/A" where a credential does not exist;
// password_last_used "no_information" for a password never used;
// password_next_rotation from the policy's MaxPasswordAge ("N/A" without
// expiry); and "not_supported" in the root row's password columns. The root
// row (<root_account>) comes first, then the users by name. Access keys and
// signing certificates are not modelled: always false / N/A.
func (s *Server) credentialReportCSV(now time.Time) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(CredentialReportColumns)
	noKeys := []string{"false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"}

	root := []string{"<root_account>", "arn:aws:iam::" + s.accountID + ":root", reportTime(s.started),
		"not_supported", "no_information", "not_supported", "not_supported", "false"}
	_ = w.Write(append(root, noKeys...))

	names := make([]string, 0, len(s.users))
	for name := range s.users {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		u := s.users[name]
		lastUsed, lastChanged, next := "N/A", "N/A", "N/A"
		switch {
		case !u.PasswordLastUsed.IsZero():
			lastUsed = reportTime(u.PasswordLastUsed)
		case u.LoginProfile:
			lastUsed = "no_information"
		}
		if u.LoginProfile {
			lastChanged = reportTime(u.PasswordCreated)
			if p := s.policy; p != nil && p.MaxPasswordAge > 0 {
				next = reportTime(u.PasswordCreated.AddDate(0, 0, p.MaxPasswordAge))
			}
		}
		row := []string{u.Name, u.arn(), reportTime(u.Created),
			boolString(u.LoginProfile), lastUsed, lastChanged, next, boolString(u.MFADevices > 0)}
		_ = w.Write(append(row, noKeys...))
	}
	w.Flush()
	return buf.Bytes()
}

// reportTime is the credential report's timestamp format.
func reportTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05+00:00")
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
