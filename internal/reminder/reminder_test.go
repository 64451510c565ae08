package reminder_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
)

// sentDays lists the thresholds of the reminders a run sent.
func sentDays(rep reminder.Report) []int {
	var out []int
	for _, e := range rep.Reminders {
		if e.Outcome == reminder.Sent {
			out = append(out, e.Days)
		}
	}
	return out
}

func TestThresholdsCrossedOnce(t *testing.T) {
	expires := date(20, 10, 0, "UTC")
	tests := []struct {
		name     string
		daysLeft []int // a run at 09:00 and another at 15:00 on each of these days before expiry
		want     []int // thresholds sent, in order; 0 = the expiry notice
	}{
		{"every day", []int{16, 15, 14, 13, 4, 3, 2, 1, 0, -1, -2}, []int{14, 3, 1, 0}},
		{"down over 14 and 3: the nearest only", []int{2, 1, 0, -1}, []int{3, 1, 0}},
		{"every few days", []int{20, 10, 5, 0, -5}, []int{14, 1, 0}},
		{"first run after expiry", []int{-3, -2}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, expires.AddDate(0, 0, -30), "UTC", "UTC")
			h.setExpiry("alice", expires)
			h.start()
			var got []int
			for _, left := range tt.daysLeft {
				day := expires.AddDate(0, 0, -left)
				for _, hour := range []int{9, 15} {
					at := time.Date(day.Year(), day.Month(), day.Day(), hour, 0, 0, 0, time.UTC)
					rep := h.runAt(at, false)
					if s := sentDays(rep); len(s) > 1 {
						t.Fatalf("RunOnce(%v) sent %v; want at most one reminder per person", at, s)
					}
					got = append(got, sentDays(rep)...)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("thresholds sent = %v; want %v", got, tt.want)
			}
			if n := len(h.dms(alice)); n != len(tt.want) {
				t.Errorf("alice has %d DMs; want %d", n, len(tt.want))
			}
			if n := len(h.dms(bob)); n != 0 {
				t.Errorf("bob, with no console password, has %d DMs; want 0", n)
			}
			for _, d := range tt.want {
				if got := h.metric("awsreset_reminders_sent_total", map[string]string{"days": fmt.Sprint(d)}); got != 1 {
					t.Errorf("awsreset_reminders_sent_total{days=%d} = %v; want 1", d, got)
				}
			}
		})
	}
}

// TestTimeZones runs the daily loop for two people and checks that each is
// reminded at 09:00 in their own zone, and that the loop wakes only then.
func TestTimeZones(t *testing.T) {
	start := date(3, 5, 0, "UTC") // 07:00 in Berlin, 01:00 in New York
	h := newHarness(t, start, "Europe/Berlin", "America/New_York")
	h.setExpiry("alice", date(6, 10, 0, "UTC")) // three days after 09:00 Berlin time on the 3rd
	h.setExpiry("bob", date(6, 18, 0, "UTC"))   // three days after 09:00 New York time on the 3rd
	rem := h.start()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rem.Run(ctx) }()
	wait := h.ctx()

	// advance fires Run's timers until it sleeps past until.
	advance := func(until time.Time) {
		t.Helper()
		for {
			at, ok := h.clock.WaitTimer(wait)
			if !ok {
				t.Fatalf("Run never slept again; logs:\n%s", h.logs.String())
			}
			if at.After(until) {
				return
			}
			h.clock.Set(at)
		}
	}
	checkDMs := func(when string, wantAlice, wantBob int) {
		t.Helper()
		if a, b := len(h.dms(alice)), len(h.dms(bob)); a != wantAlice || b != wantBob {
			t.Fatalf("%s: alice has %d DMs, bob %d; want %d and %d", when, a, b, wantAlice, wantBob)
		}
	}

	advance(start)
	checkDMs("at start, before anyone's 09:00", 0, 0)
	advance(date(3, 9, 0, "Europe/Berlin"))
	checkDMs("09:00 in Berlin", 1, 0)
	advance(date(3, 8, 59, "America/New_York"))
	checkDMs("08:59 in New York", 1, 0)
	advance(date(3, 9, 0, "America/New_York"))
	checkDMs("09:00 in New York", 1, 1)
	advance(date(4, 9, 0, "Europe/Berlin"))
	checkDMs("next day", 1, 1)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v; want nil after cancel", err)
		}
	case <-wait.Done():
		t.Fatal("Run did not return after cancel")
	}

	var runs []time.Time
	for _, c := range h.iam.Calls("GetAccountPasswordPolicy") {
		runs = append(runs, c.At.UTC())
	}
	want := []time.Time{start, date(3, 7, 0, "UTC"), date(3, 13, 0, "UTC"), date(4, 7, 0, "UTC")}
	if !slices.EqualFunc(runs, want, time.Time.Equal) {
		t.Errorf("runs at %v; want %v (start, then each person's 09:00)", runs, want)
	}
	for _, m := range append(h.dms(alice), h.dms(bob)...) {
		if !strings.Contains(m.Text, "expires in 3 days") {
			t.Errorf("DM %q; want it to say the password expires in 3 days", m.Text)
		}
	}
}

func TestRestartSendsNothingTwice(t *testing.T) {
	expires := date(20, 10, 0, "UTC")
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	h.setExpiry("alice", expires)
	h.start()
	if got := sentDays(h.runAt(date(6, 9, 0, "UTC"), false)); !slices.Equal(got, []int{14}) {
		t.Fatalf("first run sent %v; want [14]", got)
	}

	h.restart()
	rep := h.runAt(date(6, 9, 30, "UTC"), false)
	if len(rep.Reminders) != 1 || rep.Reminders[0].Outcome != reminder.AlreadySent {
		t.Errorf("after a restart, RunOnce = %+v; want the 14-day reminder already sent", rep.Reminders)
	}
	if got := sentDays(h.runAt(date(17, 9, 0, "UTC"), false)); !slices.Equal(got, []int{3}) {
		t.Errorf("run on the 17th sent %v; want [3]", got)
	}
	h.restart()
	h.runAt(date(17, 12, 0, "UTC"), false)
	if n := len(h.dms(alice)); n != 2 {
		t.Errorf("alice has %d DMs after two restarts; want 2", n)
	}
}

// TestReplicas runs two bots on one store at once: one DM.
func TestReplicas(t *testing.T) {
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	h.setExpiry("alice", date(20, 10, 0, "UTC"))
	h.setExpiry("bob", date(21, 10, 0, "UTC"))
	replicas := []*reminder.Reminder{h.start(), h.start(), h.start()}
	at := date(17, 9, 0, "UTC")
	h.clock.Set(at)
	var wg sync.WaitGroup
	for _, r := range replicas {
		wg.Go(func() {
			if _, err := r.RunOnce(h.ctx(), at, false); err != nil {
				t.Errorf("RunOnce = %v", err)
			}
		})
	}
	wg.Wait()
	if a, b := len(h.dms(alice)), len(h.dms(bob)); a != 1 || b != 1 {
		t.Errorf("three replicas sent alice %d DMs and bob %d; want 1 each", a, b)
	}
}

func TestCredentialReportNotReady(t *testing.T) {
	expires := date(20, 10, 0, "UTC")
	tests := []struct {
		name       string
		setup      func(*fakeaws.Server)
		wantSource string
	}{
		{"ReportInProgress twice, then the report", func(s *fakeaws.Server) {
			s.FailNext("GetCredentialReport", 2, "ReportInProgress")
		}, reminder.SourceCredentialReport},
		{"slow generation", func(s *fakeaws.Server) { s.SetCredentialReportDelay(4) }, reminder.SourceCredentialReport},
		{"ReportInProgress on Generate", func(s *fakeaws.Server) {
			s.FailNext("GenerateCredentialReport", 2, "ReportInProgress")
		}, reminder.SourceCredentialReport},
		{"never ready: login profiles instead", func(s *fakeaws.Server) {
			s.FailNext("GetCredentialReport", 10, "ReportInProgress")
		}, reminder.SourceLoginProfiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
			h.options = func(o *reminder.Options) { o.ReportAttempts = 5 }
			h.setExpiry("alice", expires)
			h.start()
			tt.setup(h.iam)
			rep := h.runAt(date(17, 9, 0, "UTC"), false)
			if rep.Source != tt.wantSource {
				t.Errorf("Source = %q; want %q", rep.Source, tt.wantSource)
			}
			if len(rep.Reminders) != 1 || rep.Reminders[0].Outcome != reminder.Sent || !rep.Reminders[0].Expires.Equal(expires) {
				t.Errorf("Reminders = %+v; want alice's 3-day reminder for %v, sent", rep.Reminders, expires)
			}
			if n := len(h.iam.Calls("GenerateCredentialReport")); n > 5 {
				t.Errorf("GenerateCredentialReport called %d times; want at most ReportAttempts (5)", n)
			}
		})
	}
}

func TestFallbackToLoginProfiles(t *testing.T) {
	expires := date(20, 10, 0, "UTC")
	tests := []struct {
		name    string
		setup   func(*fakeaws.Server)
		wantErr bool
	}{
		{"Generate denied", func(s *fakeaws.Server) { s.FailNext("GenerateCredentialReport", 1, "AccessDenied") }, false},
		{"Get denied", func(s *fakeaws.Server) { s.FailNext("GetCredentialReport", 1, "AccessDenied") }, false},
		{"report and policy denied", func(s *fakeaws.Server) {
			s.FailNext("GetAccountPasswordPolicy", 1, "AccessDenied")
			s.FailNext("GenerateCredentialReport", 1, "AccessDenied")
		}, true},
		{"one login profile denied: the others still reminded", func(s *fakeaws.Server) {
			s.FailNext("GenerateCredentialReport", 1, "AccessDenied")
			s.SetAllowed([]fakeaws.Rule{{Action: "*"},
				{Deny: true, Action: "iam:GetLoginProfile", Resource: "arn:aws:iam::" + fakeaws.AccountID + ":user/bob"}})
		}, false},
		{"every login profile denied", func(s *fakeaws.Server) {
			s.FailNext("GenerateCredentialReport", 1, "AccessDenied")
			s.FailNext("GetLoginProfile", 2, "AccessDenied")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
			h.setExpiry("alice", expires)
			h.iam.AddUser(fakeaws.User{Name: "bob"}) // no console password
			rem := h.start()
			tt.setup(h.iam)
			at := date(17, 9, 0, "UTC")
			h.clock.Set(at)
			rep, err := rem.RunOnce(h.ctx(), at, false)
			if tt.wantErr {
				if err == nil || len(h.dms(alice)) != 0 {
					t.Errorf("RunOnce = %+v, %v; want an error and no DM", rep, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RunOnce = %v", err)
			}
			if rep.Source != reminder.SourceLoginProfiles {
				t.Errorf("Source = %q; want %q", rep.Source, reminder.SourceLoginProfiles)
			}
			if len(rep.Reminders) != 1 || rep.Reminders[0].IAMUser != "alice" || !rep.Reminders[0].Expires.Equal(expires) ||
				rep.Reminders[0].Days != 3 {
				t.Errorf("Reminders = %+v; want alice's 3-day reminder for %v", rep.Reminders, expires)
			}
			if len(h.dms(alice)) != 1 {
				t.Errorf("alice has %d DMs; want 1", len(h.dms(alice)))
			}
		})
	}
}

func TestNoExpiryPolicy(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*fakeaws.Server)
		wantSource string
		wantReport bool // whether the credential report is read
	}{
		{"no password policy", func(s *fakeaws.Server) { s.SetPasswordPolicy(nil) }, reminder.SourcePasswordPolicy, false},
		{"no maximum age", func(s *fakeaws.Server) {
			s.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 12})
		}, reminder.SourcePasswordPolicy, false},
		{"policy unreadable, report says N/A", func(s *fakeaws.Server) {
			s.SetPasswordPolicy(nil)
			s.FailNext("GetAccountPasswordPolicy", 3, "AccessDenied")
		}, reminder.SourceCredentialReport, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
			h.setExpiry("alice", date(2, 10, 0, "UTC"))
			h.setExpiry("bob", date(3, 10, 0, "UTC"))
			h.start()
			tt.setup(h.iam)
			for day := 2; day <= 4; day++ {
				rep := h.runAt(date(day, 9, 0, "UTC"), false)
				if !rep.NoExpiry || rep.Source != tt.wantSource || len(rep.Reminders) != 0 {
					t.Errorf("RunOnce on the %d = %+v; want NoExpiry from %q and no reminders", day, rep, tt.wantSource)
				}
			}
			if n := len(h.slack.Calls("chat.postMessage")); n != 0 {
				t.Errorf("chat.postMessage called %d times; want 0", n)
			}
			if n := strings.Count(h.logs.String(), "never expire"); n != 1 {
				t.Errorf("the log says passwords never expire %d times over three runs; want once", n)
			}
			if read := len(h.iam.Calls("GetCredentialReport")) > 0; read != tt.wantReport {
				t.Errorf("credential report read = %v; want %v", read, tt.wantReport)
			}
		})
	}
}

func TestExpiredNoticeOnce(t *testing.T) {
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	h.setExpiry("alice", date(1, 10, 0, "UTC"))
	h.start()
	for day := 5; day <= 7; day++ {
		h.runAt(date(day, 9, 0, "UTC"), false)
	}
	dms := h.dms(alice)
	if len(dms) != 1 {
		t.Fatalf("alice has %d DMs after three runs past expiry; want 1", len(dms))
	}
	if !strings.Contains(dms[0].Text, "has expired") || !strings.Contains(string(dms[0].Blocks), "`/aws-reset`") {
		t.Errorf("expiry notice = %q %s; want it to say so and offer /aws-reset", dms[0].Text, dms[0].Blocks)
	}
	if n := len(h.iam.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("UpdateLoginProfile called %d times; the notice must never reset", n)
	}
	if got := h.metric("awsreset_reminders_sent_total", map[string]string{"days": "0"}); got != 1 {
		t.Errorf("awsreset_reminders_sent_total{days=0} = %v; want 1", got)
	}

	// A new password starts afresh.
	next := date(7, 12, 0, "UTC").AddDate(0, 0, maxAge)
	h.setExpiry("alice", next)
	h.runAt(date(8, 9, 0, "UTC"), false)
	rep := h.runAt(next.AddDate(0, 0, -1), false)
	if got := sentDays(rep); !slices.Equal(got, []int{1}) || len(h.dms(alice)) != 2 {
		t.Errorf("a day before the new expiry sent %v (alice has %d DMs); want [1] and 2", got, len(h.dms(alice)))
	}
}

func TestDryRun(t *testing.T) {
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	h.setExpiry("alice", date(20, 10, 0, "UTC"))
	h.setExpiry("bob", date(10, 10, 0, "UTC"))
	h.start()
	at := date(17, 9, 0, "UTC")
	rep := h.runAt(at, true)
	want := []struct {
		user     string
		days     int
		dueSince time.Time
	}{{"alice", 3, date(17, 9, 0, "UTC")}, {"bob", 0, date(11, 9, 0, "UTC")}}
	if len(rep.Reminders) != len(want) {
		t.Fatalf("dry run Reminders = %+v; want %d", rep.Reminders, len(want))
	}
	for i, w := range want {
		e := rep.Reminders[i]
		if e.IAMUser != w.user || e.Days != w.days || e.Outcome != reminder.Due || !e.DueSince.Equal(w.dueSince) {
			t.Errorf("Reminders[%d] = %+v; want %s, %d days, due since %v, Due", i, e, w.user, w.days, w.dueSince)
		}
	}
	for _, method := range []string{"conversations.open", "chat.postMessage"} {
		if n := len(h.slack.Calls(method)); n != 0 {
			t.Errorf("dry run called %s %d times; want 0", method, n)
		}
	}
	// Nothing was recorded: the real run sends both.
	if got := sentDays(h.runAt(at, false)); !slices.Equal(got, []int{3, 0}) {
		t.Errorf("run after the dry run sent %v; want [3 0]", got)
	}
}

func TestMessage(t *testing.T) {
	expires := date(20, 10, 0, "UTC")
	tests := []struct {
		name      string
		protected []string
		command   string
		at        time.Time
		want      []string
		notWant   []string
	}{
		{"reminder", nil, "/aws-reset", date(17, 9, 0, "UTC"), []string{
			"`alice`", "expires *in 3 days*", fmt.Sprintf("<!date^%d^", expires.Unix()),
			"<https://console.aws.amazon.com/iam/home#/security_credentials|Security credentials>",
			"<" + consoleURL + "|", "`/aws-reset`",
		}, nil},
		{"tomorrow", nil, "/aws-reset", date(19, 9, 0, "UTC"), []string{"expires *tomorrow*"}, nil},
		{"own command", nil, "/reset-aws", date(17, 9, 0, "UTC"), []string{"`/reset-aws`"}, []string{"/aws-reset"}},
		{"protected by name", []string{"ALICE"}, "/aws-reset", date(17, 9, 0, "UTC"), []string{"administrators"}, []string{"/aws-reset"}},
		{"protected by path", []string{"/"}, "/aws-reset", date(17, 9, 0, "UTC"), []string{"administrators"}, []string{"/aws-reset"}},
		{"expired", nil, "/aws-reset", date(21, 9, 0, "UTC"), []string{"expired on", "`/aws-reset`", "<" + consoleURL + "|"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
			h.cfg.Reset.Protected = tt.protected
			h.cfg.Slack.Command = tt.command
			h.setExpiry("alice", expires)
			h.start()
			h.runAt(tt.at, false)
			dms := h.dms(alice)
			if len(dms) != 1 {
				t.Fatalf("alice has %d DMs; want 1", len(dms))
			}
			all := dms[0].Text + string(dms[0].Blocks)
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("DM %s; want it to contain %q", all, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(all, w) {
					t.Errorf("DM %s; want no %q", all, w)
				}
			}
		})
	}
}

func TestDeliveryFailures(t *testing.T) {
	expires := date(20, 10, 0, "UTC")
	tests := []struct {
		name        string
		setup       func(*harness)
		wantFirst   reminder.Outcome
		wantSecond  reminder.Outcome
		wantDMCount int
	}{
		{"DM could not be opened: tried again", func(h *harness) {
			h.slack.FailNext("conversations.open", 1, fakeslack.Fault{Error: "internal_error"})
		}, reminder.Failed, reminder.Sent, 1},
		{"users.info failed: tried again", func(h *harness) {
			h.slack.FailNext("users.info", 1, fakeslack.Fault{Error: "internal_error"})
		}, reminder.Failed, reminder.Sent, 1},
		{"post failed after recording: lost, at most once", func(h *harness) {
			h.slack.FailNext("chat.postMessage", 1, fakeslack.Fault{Error: "internal_error"})
		}, reminder.Lost, reminder.AlreadySent, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
			h.setExpiry("alice", expires)
			h.start()
			tt.setup(h)
			for i, want := range []reminder.Outcome{tt.wantFirst, tt.wantSecond} {
				rep := h.runAt(date(17, 9+i, 0, "UTC"), false)
				if len(rep.Reminders) != 1 || rep.Reminders[0].Outcome != want {
					t.Errorf("run %d: Reminders = %+v; want one, %q", i+1, rep.Reminders, want)
				}
			}
			if n := len(h.dms(alice)); n != tt.wantDMCount {
				t.Errorf("alice has %d DMs; want %d", n, tt.wantDMCount)
			}
		})
	}
}

func TestDeactivatedUserSkipped(t *testing.T) {
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	h.slack.AddUser(fakeslack.User{ID: bob, Name: "bob", Deleted: true})
	h.setExpiry("alice", date(20, 10, 0, "UTC"))
	h.setExpiry("bob", date(20, 10, 0, "UTC"))
	h.start()
	rep := h.runAt(date(17, 9, 0, "UTC"), false)
	if got := sentDays(rep); !slices.Equal(got, []int{3}) || len(rep.Reminders) != 1 || rep.Reminders[0].SlackUser != alice {
		t.Errorf("Reminders = %+v; want alice's alone", rep.Reminders)
	}
	for _, c := range h.slack.Calls("conversations.open") {
		if c.Params.Get("users") == bob {
			t.Error("conversations.open with a deactivated user")
		}
	}
}

func TestExpiringSoon(t *testing.T) {
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	h.setExpiry("alice", date(20, 10, 0, "UTC"))
	h.setExpiry("bob", date(27, 9, 0, "UTC"))
	h.start()
	tests := []struct {
		at   time.Time
		want int
	}{
		{date(12, 9, 0, "UTC"), 0},
		{date(13, 10, 0, "UTC"), 1}, // alice exactly 7 days ahead
		{date(20, 9, 0, "UTC"), 2},  // bob exactly 7 days ahead
		{date(21, 9, 0, "UTC"), 1},  // alice expired: no longer "soon"
	}
	for _, tt := range tests {
		rep := h.runAt(tt.at, true)
		if rep.ExpiringSoon != tt.want {
			t.Errorf("RunOnce(%v).ExpiringSoon = %d; want %d", tt.at, rep.ExpiringSoon, tt.want)
		}
		if got := h.metric("awsreset_users_expiring_within_7d", nil); got != float64(tt.want) {
			t.Errorf("awsreset_users_expiring_within_7d at %v = %v; want %d", tt.at, got, tt.want)
		}
	}
}

func TestConfiguredTimeZone(t *testing.T) {
	// With reminders.time_zone, everyone's 09:00 is Tokyo's, whatever their
	// Slack zone, and users.info is not needed.
	h := newHarness(t, date(1, 0, 0, "UTC"), "America/New_York", "Europe/Berlin")
	h.cfg.Reminders.TimeZone = "Asia/Tokyo"
	h.setExpiry("alice", date(20, 10, 0, "UTC"))
	h.setExpiry("bob", date(20, 10, 0, "UTC"))
	h.start()
	if rep := h.runAt(date(17, 8, 59, "Asia/Tokyo"), false); len(rep.Reminders) != 0 {
		t.Errorf("08:59 in Tokyo: Reminders = %+v; want none", rep.Reminders)
	}
	if got := sentDays(h.runAt(date(17, 9, 0, "Asia/Tokyo"), false)); !slices.Equal(got, []int{3, 3}) {
		t.Errorf("09:00 in Tokyo sent %v; want [3 3]", got)
	}
	if n := len(h.slack.Calls("users.info")); n != 0 {
		t.Errorf("users.info called %d times; want 0 with a configured zone", n)
	}
}
