package reminder

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDecide(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	days := []int{1, 3, 14}
	at := func(y int, mo time.Month, d, h, m int, loc *time.Location) time.Time {
		return time.Date(y, mo, d, h, m, 0, 0, loc)
	}
	expires := at(2024, 6, 20, 10, 0, time.UTC) // 12:00 in Berlin
	tests := []struct {
		name     string
		expires  time.Time
		now      time.Time
		zone     *time.Location
		want     decision
		wantDue  bool
		wantNote string
	}{
		{"before the daily time", expires, at(2024, 6, 17, 8, 59, time.UTC), time.UTC, decision{}, false, ""},
		{"at the daily time", expires, at(2024, 6, 17, 9, 0, time.UTC), time.UTC,
			decision{3, 3, at(2024, 6, 17, 9, 0, time.UTC)}, true, ""},
		{"late the same day, same answer", expires, at(2024, 6, 17, 23, 59, time.UTC), time.UTC,
			decision{3, 3, at(2024, 6, 17, 9, 0, time.UTC)}, true, ""},
		{"between thresholds: the one crossed", expires, at(2024, 6, 10, 9, 0, time.UTC), time.UTC,
			decision{14, 10, at(2024, 6, 6, 9, 0, time.UTC)}, true, ""},
		{"beyond the largest threshold", expires, at(2024, 6, 5, 9, 0, time.UTC), time.UTC, decision{}, false, ""},
		{"first day of the largest", expires, at(2024, 6, 6, 9, 0, time.UTC), time.UTC,
			decision{14, 14, at(2024, 6, 6, 9, 0, time.UTC)}, true, ""},
		{"expiry day, before it", expires, at(2024, 6, 20, 9, 30, time.UTC), time.UTC,
			decision{1, 0, at(2024, 6, 19, 9, 0, time.UTC)}, true, ""},
		{"expiry day, after it: the notice waits for tomorrow", expires, at(2024, 6, 20, 10, 30, time.UTC), time.UTC, decision{}, false, ""},
		{"day after expiry", expires, at(2024, 6, 21, 9, 0, time.UTC), time.UTC,
			decision{0, -1, at(2024, 6, 21, 9, 0, time.UTC)}, true, ""},
		{"expired before the daily time: notice that day", at(2024, 6, 20, 6, 0, time.UTC), at(2024, 6, 20, 9, 0, time.UTC), time.UTC,
			decision{0, 0, at(2024, 6, 20, 9, 0, time.UTC)}, true, ""},
		{"days counted in the person's zone", at(2024, 6, 20, 22, 30, time.UTC), at(2024, 6, 17, 9, 0, berlin), berlin,
			decision{14, 4, at(2024, 6, 7, 9, 0, berlin)}, true, "22:30 UTC is the 21st in Berlin"},
		{"across the change to summer time", at(2024, 3, 31, 12, 0, time.UTC), at(2024, 3, 30, 9, 0, berlin), berlin,
			decision{1, 1, at(2024, 3, 30, 9, 0, berlin)}, true, ""},
		{"the morning after the change", at(2024, 4, 3, 12, 0, time.UTC), at(2024, 3, 31, 8, 30, time.UTC), berlin,
			decision{3, 3, at(2024, 3, 31, 9, 0, berlin)}, true, "08:30 UTC is 10:30 CEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, due := decide(tt.expires, tt.now, tt.zone, 9, 0, days)
			if due != tt.wantDue || got.days != tt.want.days || got.daysLeft != tt.want.daysLeft || !got.dueSince.Equal(tt.want.dueSince) {
				t.Errorf("decide(%v, %v, %v) = %+v, %v; want %+v, %v %s", tt.expires, tt.now, tt.zone, got, due, tt.want, tt.wantDue, tt.wantNote)
			}
		})
	}
}

func TestUserZone(t *testing.T) {
	tests := []struct {
		user   slack.User
		want   string
		offset int
	}{
		{slack.User{TZ: "Asia/Kolkata", TZOffset: 19800}, "Asia/Kolkata", 19800},
		{slack.User{TZ: "Nowhere/Special", TZOffset: 3600}, "Nowhere/Special", 3600},
		{slack.User{TZ: "Local"}, "UTC", 0},
		{slack.User{}, "UTC", 0},
	}
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		loc := userZone(&tt.user)
		if _, off := now.In(loc).Zone(); loc.String() != tt.want || off != tt.offset {
			t.Errorf("userZone(tz %q, offset %d) = %v (offset %d); want %s (offset %d)",
				tt.user.TZ, tt.user.TZOffset, loc, off, tt.want, tt.offset)
		}
	}
}

func TestChangePasswordURL(t *testing.T) {
	tests := []struct{ signIn, want string }{
		{"https://example-co.signin.aws.amazon.com/console", "https://console.aws.amazon.com/iam/home#/security_credentials"},
		{"https://123456789012.signin.amazonaws-us-gov.com/console", "https://console.amazonaws-us-gov.com/iam/home#/security_credentials"},
		{"https://example.signin.amazonaws.cn/console", "https://console.amazonaws.cn/iam/home#/security_credentials"},
		{"https://sso.example.com/aws", "https://console.aws.amazon.com/iam/home#/security_credentials"},
		{"https://evil.example.com/x.signin.amazonaws.cn", "https://console.aws.amazon.com/iam/home#/security_credentials"},
		{"", "https://console.aws.amazon.com/iam/home#/security_credentials"},
	}
	for _, tt := range tests {
		if got := changePasswordURL(tt.signIn); got != tt.want {
			t.Errorf("changePasswordURL(%q) = %q; want %q", tt.signIn, got, tt.want)
		}
	}
}

func TestProtected(t *testing.T) {
	r := &Reminder{protected: []string{"Break-Glass", "/admin/"}}
	tests := []struct {
		name, arn string
		want      bool
	}{
		{"break-glass", "arn:aws:iam::123456789012:user/break-glass", true},
		{"alice", "arn:aws:iam::123456789012:user/admin/ops/alice", true},
		{"alice", "arn:aws:iam::123456789012:user/alice", false},
		{"alice", "", false},
	}
	for _, tt := range tests {
		if got := r.isProtected(tt.name, pathOfARN(tt.arn)); got != tt.want {
			t.Errorf("isProtected(%q, path of %q) = %v; want %v", tt.name, tt.arn, got, tt.want)
		}
	}
}

func TestFromReport(t *testing.T) {
	r := &Reminder{users: []config.User{{SlackUser: "U0ALICE001", IAMUser: "Alice"}, {SlackUser: "U0BOB00001", IAMUser: "bob"}}}
	tests := []struct {
		name     string
		csv      string
		wantErr  bool
		wantNone bool
		want     map[string]string // lower-case user -> expiry
	}{
		{"rows by name, case-insensitively",
			"user,arn,password_enabled,password_next_rotation\n" +
				"<root_account>,arn:aws:iam::1:root,not_supported,not_supported\n" +
				"alice,arn:aws:iam::1:user/alice,true,2024-06-20T10:00:00+00:00\n" +
				"bob,arn:aws:iam::1:user/bob,false,N/A\n" +
				"carol,arn:aws:iam::1:user/carol,true,2024-07-01T00:00:00+00:00\n",
			false, false, map[string]string{"alice": "2024-06-20T10:00:00Z"}},
		{"N/A everywhere",
			"user,arn,password_enabled,password_next_rotation\nalice,arn:aws:iam::1:user/alice,true,N/A\n",
			false, true, map[string]string{}},
		{"columns in another order",
			"password_next_rotation,password_enabled,arn,user\n2024-06-20T10:00:00+00:00,true,arn:aws:iam::1:user/bob,bob\n",
			false, false, map[string]string{"bob": "2024-06-20T10:00:00Z"}},
		{"no rotation column", "user,arn,password_enabled\nalice,arn,true\n", true, false, nil},
		{"empty", "", true, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := r.fromReport([]byte(tt.csv))
			if (err != nil) != tt.wantErr {
				t.Fatalf("fromReport() error = %v; want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if exp.none != tt.wantNone || len(exp.byUser) != len(tt.want) {
				t.Errorf("fromReport() = %+v; want none %v and %v", exp, tt.wantNone, tt.want)
			}
			for name, w := range tt.want {
				if got := exp.byUser[name].expires.Format(time.RFC3339); got != w {
					t.Errorf("expiry of %s = %s; want %s", name, got, w)
				}
			}
		})
	}
}

func TestNextDue(t *testing.T) {
	now := time.Date(2024, 6, 3, 5, 0, 0, 0, time.UTC)
	r := &Reminder{hour: 9, min: 0, zones: map[string]cachedZone{
		"U1": {loc: mustZone(t, "America/New_York")},
		"U2": {loc: mustZone(t, "Asia/Tokyo")},
	}, watched: map[string]bool{}}
	tests := []struct {
		name    string
		watched []string
		want    time.Time
	}{
		{"nobody near expiry: a day later", nil, now.Add(24 * time.Hour)},
		{"New York's 09:00", []string{"U1"}, time.Date(2024, 6, 3, 13, 0, 0, 0, time.UTC)},
		{"Tokyo's 09:00 passed today: tomorrow's", []string{"U2"}, time.Date(2024, 6, 4, 0, 0, 0, 0, time.UTC)},
		{"the earlier of the two", []string{"U1", "U2"}, time.Date(2024, 6, 3, 13, 0, 0, 0, time.UTC)},
		{"zone unknown: UTC", []string{"U3"}, time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		r.watched = map[string]bool{}
		for _, u := range tt.watched {
			r.watched[u] = true
		}
		if got := r.nextDue(now); !got.Equal(tt.want) {
			t.Errorf("%s: nextDue(%v) = %v; want %v", tt.name, now, got, tt.want)
		}
	}
}

func TestNewChecksOptions(t *testing.T) {
	cfg := config.Default()
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("New(no dependencies) = %v; want an error", err)
	}
	cfg.Reminders.At = "9am"
	_, err := New(Options{Config: cfg, IAM: nilIAM{}, Slack: &slack.Client{}, Store: nilStore{}, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Error("New(at 9am) = nil; want an error")
	}
}

type (
	nilIAM   struct{ IAM }
	nilStore struct{ Store }
)
