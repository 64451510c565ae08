// Command loadtest measures the bot under a burst of slash commands: the
// company-wide password expiry that sends everyone to /aws-reset at once.
//
// It starts the wire-level fake Slack and fake IAM in this process, the
// real bot (serve.Run, wired exactly as "bot run" is, with the fakes'
// addresses) in a child process of this same binary, and sends one slash
// command per listed person. It reports ack latency, the time
// until every password is delivered, the calls made to Slack and IAM, and
// the bot's peak memory, next to the acks of a bare slack-go Socket Mode
// client for the same burst, and checks that everyone was reset exactly
// once and got exactly their password. It exits 1 when a check fails.
//
//	go run ./bot/loadtest -users 1000 -iam-latency 50ms
//	go run ./bot/loadtest -users 1000 -tiers
//	go run ./bot/loadtest -users 300 -iam-rate 20
//
// All traffic stays on 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
)

func main() {
	if role := os.Getenv(envRole); role != "" {
		if err := childMain(role); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest child:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(1)
	}
}

// errReported means the problem was already printed.
var errReported = errors.New("reported")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.IntVar(&o.Users, "users", 1000, "listed people, each sending the slash command once, all at once")
	fs.DurationVar(&o.IAMLatency, "iam-latency", 50*time.Millisecond, "latency the fake IAM adds to every answer")
	tiers := fs.Bool("tiers", false, "enforce Slack's published per-method rate limits (fakeslack.PublishedTiers)")
	fs.Float64Var(&o.IAMRate, "iam-rate", 0, "the bot's aws.max_calls_per_second (0 = none)")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "the bot's reset.concurrency (0 = its default)")
	fs.DurationVar(&o.Deadline, "deadline", 0, "the bot's reset.deadline (0 = its default)")
	fs.BoolVar(&o.WarmDMs, "warm-dms", false, "start with every DM channel in the store, as after a restart (no conversations.open)")
	fs.BoolVar(&o.InProcess, "in-process", false, "run the bot in this process (its memory then includes the fakes')")
	fs.BoolVar(&o.NoBaseline, "no-baseline", false, "skip the bare Socket Mode client's run")
	fs.IntVar(&o.BaselineClients, "baseline-clients", 0, "bare clients in the baseline, each a process, the burst spread over them (0 = as many as -replicas)")
	fs.BoolVar(&o.RecordingBaseline, "baseline-records", false, "also run a baseline whose clients record each command in PostgreSQL before acking it, as the bot does (needs -store postgres)")
	fs.BoolVar(&o.BaselineLast, "baseline-last", false, "run the baselines after the bot's burst instead of before (to see whether the order favours either)")
	fs.BoolVar(&o.AnswerAcks, "baseline-answers", false, "the baseline acks with an answer as large as the bot's \"working on it\", not bare")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "give up waiting for deliveries after this long")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write the bot process's CPU profile here")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write the bot process's heap profile here, at the end")
	runs := fs.Int("runs", 1, "repeat the whole test this many times and compare the acks' medians (ack latency is noisy on a small machine)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.IntVar(&o.Replicas, "replicas", 1, "bot processes sharing the burst; more than one needs -store postgres")
	storeKind := fs.String("store", "sqlite", "the bot's store: sqlite, or postgres (a fresh schema on -postgres-url's server per run)")
	pgURL := fs.String("postgres-url", os.Getenv("TEST_POSTGRES_DSN"), "the PostgreSQL server for -store postgres; default $TEST_POSTGRES_DSN")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if *tiers {
		o.RateLimits = fakeslack.PublishedTiers()
	}
	switch *storeKind {
	case "sqlite":
	case "postgres":
		if *pgURL == "" {
			fmt.Fprintln(stderr, "loadtest: -store postgres needs -postgres-url or TEST_POSTGRES_DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
			return errReported
		}
		o.PostgresURL = *pgURL
	default:
		fmt.Fprintf(stderr, "loadtest: -store %q: want sqlite or postgres\n", *storeKind)
		return errReported
	}
	o.Progress = stderr
	var results []Result
	var problems []string
	for range max(1, *runs) {
		res, err := Run(ctx, o)
		if err != nil {
			return err
		}
		results = append(results, res)
		problems = append(problems, res.Problems...)
	}
	sum := Summarise(results)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		out := any(results[0])
		if len(results) > 1 {
			out = struct {
				Runs    []Result `json:"runs"`
				Summary Summary  `json:"summary"`
			}{results, sum}
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for i, res := range results {
			if len(results) > 1 {
				fmt.Fprintf(stdout, "--- run %d of %d\n", i+1, len(results))
			}
			Print(stdout, res)
		}
		if len(results) > 1 {
			fmt.Fprintf(stdout, "--- over %d runs: ack p99 median bot %v, baseline %v, ratio of medians %.2f; "+
				"last password median %v; peak RSS max %s\n", len(results), sum.AckP99, sum.BaselineP99, sum.Ratio,
				sum.LastPassword, MiB(sum.PeakKiB))
			if sum.RecordingP99 > 0 {
				fmt.Fprintf(stdout, "--- recording baseline: ack p99 median %v; bot's ratio of medians to it %.2f\n", sum.RecordingP99, sum.RecordingRatio)
			}
			if sum.AckCPUBusy > 0 {
				fmt.Fprintf(stdout, "--- machine during the acks, medians: bot %v of CPU, %.0f%% stolen; baseline %v of CPU, %.0f%% stolen\n",
					sum.AckCPUBusy, 100*sum.AckStolen, sum.BaselineCPUBusy, 100*sum.BaselineStolen)
			}
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "FAIL:", p)
		}
		return errReported
	}
	return nil
}

// Summary compares several runs by their medians.
type Summary struct {
	AckP99       Duration `json:"ack_p99_median"`
	BaselineP99  Duration `json:"baseline_ack_p99_median"`
	Ratio        float64  `json:"ack_p99_ratio_of_medians"`
	LastPassword Duration `json:"time_to_last_password_median"`
	PeakKiB      int64    `json:"peak_rss_kib_max"`
	// The machine's CPU time and the share stolen by the host during each
	// side's acks, medians (see steal.go).
	AckCPUBusy      Duration `json:"ack_cpu_busy_median,omitempty"`
	BaselineCPUBusy Duration `json:"baseline_cpu_busy_median,omitempty"`
	AckStolen       float64  `json:"ack_cpu_stolen_median,omitempty"`
	BaselineStolen  float64  `json:"baseline_cpu_stolen_median,omitempty"`
	// The recording baseline's ack p99, median, and the bot's over it.
	RecordingP99   Duration `json:"recording_baseline_ack_p99_median,omitempty"`
	RecordingRatio float64  `json:"ack_p99_recording_ratio_of_medians,omitempty"`
}

// Summarise takes the medians of the runs' ack p99s and times, and the
// largest peak RSS.
func Summarise(results []Result) Summary {
	var bot, base, recorded, last, botBusy, baseBusy []time.Duration
	var botStolen, baseStolen []float64
	var s Summary
	for _, r := range results {
		bot = append(bot, time.Duration(r.Ack.P99))
		last = append(last, time.Duration(r.LastPassword))
		botBusy, botStolen = append(botBusy, time.Duration(r.Ack.CPUBusy)), append(botStolen, r.Ack.CPUStolen)
		if r.Baseline != nil {
			base = append(base, time.Duration(r.Baseline.P99))
			baseBusy, baseStolen = append(baseBusy, time.Duration(r.Baseline.CPUBusy)), append(baseStolen, r.Baseline.CPUStolen)
		}
		if r.RecordingBaseline != nil {
			recorded = append(recorded, time.Duration(r.RecordingBaseline.P99))
		}
		s.PeakKiB = max(s.PeakKiB, r.FinalMemory.PeakKiB)
	}
	s.AckP99, s.LastPassword = Summarize(bot).P50, Summarize(last).P50
	s.AckCPUBusy, s.AckStolen = Summarize(botBusy).P50, median(botStolen)
	if len(base) > 0 {
		s.BaselineCPUBusy, s.BaselineStolen = Summarize(baseBusy).P50, median(baseStolen)
		s.BaselineP99 = Summarize(base).P50
		if s.BaselineP99 > 0 {
			s.Ratio = float64(s.AckP99) / float64(s.BaselineP99)
		}
	}
	if s.RecordingP99 = Summarize(recorded).P50; s.RecordingP99 > 0 {
		s.RecordingRatio = float64(s.AckP99) / float64(s.RecordingP99)
	}
	return s
}

// Print writes res for people to read.
func Print(w io.Writer, res Result) {
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "burst: %d users, IAM latency %s, tiers %v, IAM rate %v/s, concurrency %d, bot %s, %d replica(s) on %s\n",
		res.Users, res.IAMLatency, res.Tiers, res.IAMRate, res.Concurrency, res.BotProcess, res.Replicas, res.Store)
	fmt.Fprintf(w, "ack (bot):      p50 %v  p99 %v  max %v  (n=%d)%s\n", res.Ack.P50, res.Ack.P99, res.Ack.Max, res.Ack.N, stolenNote(res.Ack))
	if res.Baseline != nil {
		b := res.Baseline
		kind := "bare acks"
		if res.BaselineAnswers {
			kind = "acks with an answer"
		}
		fmt.Fprintf(w, "ack (baseline): p50 %v  p99 %v  max %v  (n=%d, %s, %d client(s))%s\n", b.P50, b.P99, b.Max, b.N, kind, res.BaselineClients, stolenNote(*b))
		fmt.Fprintf(w, "ack p99 bot/baseline: %.2f\n", res.AckRatioP99)
	}
	if b := res.RecordingBaseline; b != nil {
		fmt.Fprintf(w, "ack (recording baseline): p50 %v  p99 %v  max %v  (n=%d, each recorded before its ack)%s\n", b.P50, b.P99, b.Max, b.N, stolenNote(*b))
		fmt.Fprintf(w, "ack p99 bot/recording baseline: %.2f\n", res.AckRatioRecordingP99)
	}
	fmt.Fprintf(w, "passwords delivered: %d; last after %v (%.1f resets/s); last notice after %v\n",
		res.Delivered, res.LastPassword, res.ResetsPerSec, res.LastNotice)
	if res.Floor != nil {
		fmt.Fprintf(w, "tier floor: %v (set by %s); calls per request %v\n", res.Floor.Time, res.Floor.Method, res.Floor.CallsPerRequest)
	}
	if res.IAMRate > 0 {
		fmt.Fprintf(w, "IAM rate seen: %.2f calls/s on average; at most %d in any one second (limit %v/s)\n",
			res.IAMRateSeen, res.IAMMaxInSecond, res.IAMRate)
	}
	fmt.Fprintln(w, "IAM calls:")
	for _, k := range sortedKeys(res.IAMCalls) {
		c := res.IAMCalls[k]
		fmt.Fprintf(w, "  %-26s %6d (ok %d, throttled %d)\n", k, c.Total, c.OK, c.Throttled)
	}
	fmt.Fprintln(w, "Slack calls:")
	for _, k := range sortedKeys(res.SlackCalls) {
		c := res.SlackCalls[k]
		fmt.Fprintf(w, "  %-26s %6d (ok %d, 429 %d)\n", k, c.Total, c.OK, c.Throttled)
	}
	what := "the bot's own process"
	if res.BotProcess == "in-process" {
		what = "this process, fakes included"
	}
	fmt.Fprintf(w, "memory (%s): idle RSS %s (peak so far %s); peak RSS over the run %s\n", what,
		MiB(res.IdleMemory.RSSKiB), MiB(res.IdleMemory.PeakKiB), MiB(res.FinalMemory.PeakKiB))
	if len(res.PeakKiBByReplica) > 1 {
		fmt.Fprint(w, "peak RSS by replica:")
		for _, k := range res.PeakKiBByReplica {
			fmt.Fprintf(w, " %s", MiB(k))
		}
		fmt.Fprintln(w)
	}
	if len(res.Problems) == 0 {
		fmt.Fprintln(w, "checks: every listed person reset exactly once and given exactly their password")
	}
}

// stolenNote gives the machine's CPU time during the acks and the share
// the host took back, if known.
func stolenNote(l Latencies) string {
	if l.CPUBusy == 0 && l.CPUStolen == 0 {
		return ""
	}
	return fmt.Sprintf("  [machine meanwhile: %v of CPU; %.0f%% of CPU time stolen by the host]", l.CPUBusy, 100*l.CPUStolen)
}

// median is the nearest-rank median of v, as Summarize takes it; 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return rank(s, 0.5)
}
