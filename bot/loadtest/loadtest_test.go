package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/pgtest"
)

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(d)
	want := Latencies{N: 100, P50: Duration(50 * time.Millisecond), P99: Duration(99 * time.Millisecond), Max: Duration(100 * time.Millisecond)}
	if got != want {
		t.Errorf("Summarize(1..100ms) = %+v; want %+v", got, want)
	}
	if got := Summarize(nil); got != (Latencies{}) {
		t.Errorf("Summarize(nil) = %+v; want zero", got)
	}
}

// Summarise takes the medians of the runs, the CPU figures among them.
func TestSummarise(t *testing.T) {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	run := func(bot, base, busy, baseBusy int, stolen, baseStolen float64) Result {
		return Result{
			Ack:      Latencies{P99: ms(bot), CPUBusy: ms(busy), CPUStolen: stolen},
			Baseline: &Latencies{P99: ms(base), CPUBusy: ms(baseBusy), CPUStolen: baseStolen},
		}
	}
	got := Summarise([]Result{
		run(40, 10, 200, 150, 0.5, 0.1),
		run(20, 20, 180, 140, 0.0, 0.0),
		run(30, 15, 220, 160, 0.2, 0.3),
	})
	want := Summary{AckP99: ms(30), BaselineP99: ms(15), Ratio: 2,
		AckCPUBusy: ms(200), BaselineCPUBusy: ms(150), AckStolen: 0.2, BaselineStolen: 0.1}
	if got != want {
		t.Errorf("Summarise() = %+v; want %+v", got, want)
	}

	recorded := []Result{run(40, 10, 0, 0, 0, 0), run(20, 20, 0, 0, 0, 0), run(30, 15, 0, 0, 0, 0)}
	for i, p99 := range []int{50, 20, 25} {
		recorded[i].RecordingBaseline = &Latencies{P99: ms(p99)}
	}
	if got := Summarise(recorded); got.RecordingP99 != ms(25) || got.RecordingRatio != 1.2 {
		t.Errorf("Summarise() recording baseline %v, ratio %v; want 25ms and 1.2", got.RecordingP99, got.RecordingRatio)
	}
}

func TestRateSeen(t *testing.T) {
	base := time.Unix(1700000000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, base.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	tests := []struct {
		name    string
		times   []time.Time
		wantMax int
	}{
		{"paced at 10/s", at(0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100), 10},
		{"an eleventh inside the second", at(0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 999), 11},
		{"bursts a second apart", at(0, 1, 2, 1000, 1001, 1002), 3},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := RateSeen(tt.times, time.Second); got != tt.wantMax {
				t.Errorf("RateSeen() max = %d; want %d", got, tt.wantMax)
			}
		})
	}
	if _, rate := RateSeen(at(0, 500, 1000), time.Second); rate != 2 {
		t.Errorf("RateSeen(0, .5s, 1s) rate = %v; want 2", rate)
	}
}

func TestAllowedPerSecond(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want int
	}{{10, 10}, {2.5, 3}, {0.5, 1}} {
		if got := AllowedPerSecond(tt.rate); got != tt.want {
			t.Errorf("AllowedPerSecond(%v) = %d; want %d", tt.rate, got, tt.want)
		}
	}
}

func TestTierFloor(t *testing.T) {
	limits := map[string]int{"users.info": 100, "conversations.open": 50, "chat.postMessage": 60}
	counts := map[string]CallCount{
		"users.info":         {OK: 1000},
		"conversations.open": {OK: 1000},
		"chat.postMessage":   {OK: 1000},
		"auth.test":          {OK: 1}, // not limited here
	}
	f := TierFloor(limits, counts, 1000)
	// 1000 calls at 50 a minute: the last goes in the 20th window, 19 minutes in.
	if f.Method != "conversations.open" || time.Duration(f.Time) != 19*time.Minute {
		t.Errorf("TierFloor = %s %v; want conversations.open 19m0s", f.Method, f.Time)
	}
	if got := f.CallsPerRequest["users.info"]; got != 1 {
		t.Errorf("calls per request of users.info = %v; want 1", got)
	}
	if f := TierFloor(limits, map[string]CallCount{"users.info": {OK: 100}}, 100); f.Time != 0 {
		t.Errorf("TierFloor(100 users.info at 100/min) = %v; want 0", f.Time)
	}
}

func TestReadMemory(t *testing.T) {
	status := "Name:\tloadtest\nVmPeak:\t 1000 kB\nVmHWM:\t   34304 kB\nVmRSS:\t   20480 kB\nThreads:\t5\n"
	m, err := ReadMemory(strings.NewReader(status))
	if err != nil || m.RSSKiB != 20480 || m.PeakKiB != 34304 {
		t.Errorf("ReadMemory() = %+v, %v; want RSS 20480 peak 34304", m, err)
	}
	if _, err := ReadMemory(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("ReadMemory(no Vm lines) = nil error; want one")
	}
	if _, err := SelfMemory(); err != nil {
		t.Errorf("SelfMemory() error %v", err)
	}
}

// TestSmoke runs a small burst through the real bot, in this process, and
// checks what the load test checks: everyone reset once, every password
// delivered to its owner alone.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bot")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{Users: 40, IAMLatency: 5 * time.Millisecond, InProcess: true, Idle: 10 * time.Millisecond, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Run() error %v", err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("Run() problems:\n%s", strings.Join(res.Problems, "\n"))
	}
	if res.Delivered != 40 || res.Ack.N != 40 || res.Baseline == nil || res.Baseline.N != 40 {
		t.Errorf("Run() delivered %d, acks %d, baseline %+v; want 40 each", res.Delivered, res.Ack.N, res.Baseline)
	}
	if c := res.IAMCalls["UpdateLoginProfile"]; c.OK != 40 {
		t.Errorf("UpdateLoginProfile calls = %+v; want 40 ok", c)
	}
}

// TestBurstUnderThrottling throttles every Slack method the reset flow
// calls, the password delivery after the IAM reset included, and checks
// that every person still gets exactly one password and one notice: no
// delivery lost, none repeated.
func TestBurstUnderThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bot")
	}
	const n = 30
	fast := map[string]int{}
	for _, m := range []string{"users.info", "conversations.open", "chat.postEphemeral", "chat.postMessage"} {
		fast[m] = 1200 // paced at 50ms once throttled, to keep the test short
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{
		Users: n, IAMLatency: 5 * time.Millisecond, InProcess: true, NoBaseline: true,
		Idle: 10 * time.Millisecond, Timeout: 30 * time.Second, Concurrency: 8, SlackLimits: fast,
		Prepare: func(slk *fakeslack.Server, _ *fakeaws.Server) {
			for m := range fast {
				slk.FailNext(m, 4, fakeslack.Fault{Status: 429, RetryAfter: time.Second})
			}
		},
	})
	if err != nil {
		t.Fatalf("Run() error %v", err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("Run() problems:\n%s", strings.Join(res.Problems, "\n"))
	}
	for m := range fast {
		if c := res.SlackCalls[m]; c.Throttled != 4 || c.OK != n {
			t.Errorf("%s calls = %+v; want 4 throttled and %d ok", m, c, n)
		}
	}
}

// TestSmokePostgres is TestSmoke with the bot on PostgreSQL (-store
// postgres), in a schema of its own that the run drops, and with the
// recording baseline, the baselines after the bot.
func TestSmokePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the bot")
	}
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{Users: 40, IAMLatency: 5 * time.Millisecond, InProcess: true, Idle: 10 * time.Millisecond,
		Timeout: 30 * time.Second, PostgresURL: dsn, RecordingBaseline: true, BaselineLast: true})
	if err != nil {
		t.Fatalf("Run() error %v", err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("Run() problems:\n%s", strings.Join(res.Problems, "\n"))
	}
	if res.Delivered != 40 || res.Store != "postgres" || res.Replicas != 1 {
		t.Errorf("Run() delivered %d on %s with %d replicas; want 40 on postgres with 1", res.Delivered, res.Store, res.Replicas)
	}
	if b := res.RecordingBaseline; b == nil || b.N != 40 || res.AckRatioRecordingP99 == 0 {
		t.Errorf("Run() recording baseline %+v, ratio %v; want 40 acks and a ratio", b, res.AckRatioRecordingP99)
	}
	if b := res.Baseline; b == nil || b.N != 40 || res.AckRatioP99 == 0 || !res.BaselineLast {
		t.Errorf("Run() baseline %+v, ratio %v, last %v; want 40 acks and a ratio, run last", b, res.AckRatioP99, res.BaselineLast)
	}
	if _, err := Run(ctx, Options{Users: 1, Replicas: 2}); err == nil {
		t.Error("Run(2 replicas on SQLite) = nil error; want one")
	}
	if _, err := Run(ctx, Options{Users: 1, RecordingBaseline: true}); err == nil {
		t.Error("Run(a recording baseline on SQLite) = nil error; want one")
	}
}

// The recording baseline acks a command only once its record is in the
// database, and acks nothing once a record fails.
func TestRecordedAcks(t *testing.T) {
	dbURL := pgtest.Schema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execIn(ctx, dbURL, recordingTableSQL); err != nil {
		t.Fatal(err)
	}
	check, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	acked := make(chan string, 10)
	rec, err := openRecordedAcks(ctx, dbURL, func(req socketmode.Request) {
		var user string
		if err := check.QueryRowContext(ctx, "SELECT slack_user FROM baseline_acks WHERE envelope_id = $1", req.EnvelopeID).Scan(&user); err != nil {
			t.Errorf("envelope %s acked before its record: %v", req.EnvelopeID, err)
		}
		acked <- req.EnvelopeID + " " + user
	})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- rec.run(ctx) }()
	for i := range 3 {
		rec.add(socketmode.Request{EnvelopeID: fmt.Sprintf("env-%d", i)}, fmt.Sprintf("U%d", i))
	}
	var got []string
	for range 3 {
		got = append(got, <-acked)
	}
	slices.Sort(got)
	if want := []string{"env-0 U0", "env-1 U1", "env-2 U2"}; !slices.Equal(got, want) {
		t.Errorf("acked %q; want %q", got, want)
	}

	if _, err := check.ExecContext(ctx, "DROP TABLE baseline_acks"); err != nil {
		t.Fatal(err)
	}
	rec.add(socketmode.Request{EnvelopeID: "env-lost"}, "U9")
	if err := <-runErr; err == nil {
		t.Error("run() with no table to record in = nil error; want one")
	}
	select {
	case a := <-acked:
		t.Errorf("acked %s without its record", a)
	default:
	}
}
