package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// Options configures one load test.
type Options struct {
	Users       int
	IAMLatency  time.Duration
	RateLimits  map[string]int // Slack's per-method limits to enforce; nil = none
	IAMRate     float64        // aws.max_calls_per_second; 0 = none
	Concurrency int            // reset.concurrency; 0 = the bot's default
	Deadline    time.Duration  // reset.deadline; 0 = the bot's default
	InProcess   bool           // run the bot in this process instead of a child
	NoBaseline  bool           // skip the bare-client run
	// BaselineClients is how many bare clients (each a process of its own,
	// the envelopes spread over their connections as over the replicas')
	// the baseline runs; 0 = as many as Replicas, so the baseline and the
	// bot share the machine alike and the ratio is what the bot adds.
	BaselineClients int
	AnswerAcks      bool // the baseline acks with an answer as large as the bot's
	// RecordingBaseline adds a second baseline, whose clients record each
	// command in PostgreSQL before its ack, as the bot does (see
	// recording.go); needs PostgresURL.
	RecordingBaseline bool
	// BaselineLast runs the baselines after the bot's burst, not before:
	// to see whether the order favours either side.
	BaselineLast bool
	WarmDMs      bool          // the store already knows every DM channel, as after a restart
	Timeout      time.Duration // bound on the whole burst; default 30m
	Idle         time.Duration // how long the bot sits idle before the burst; default 2s
	CPUProfile   string        // CPU profile of the bot's process
	MemProfile   string        // heap profile of the bot's process, at the end
	Progress     io.Writer     // progress lines; nil = none
	// Replicas is how many bot processes share the burst (Slack spreads
	// the envelopes over their connections); default 1.
	Replicas int
	// PostgresURL selects PostgreSQL on this server (a fresh schema per
	// run, dropped after it) instead of SQLite; needed for Replicas > 1.
	PostgresURL string

	// SlackLimits are the bot's paces for throttled methods (see
	// slackbot.Options.SlackLimits); nil = Slack's published tiers.
	SlackLimits map[string]int
	// Prepare, if set, is called with the fakes before the bot's burst:
	// tests inject faults with it.
	Prepare func(*fakeslack.Server, *fakeaws.Server)
}

// Run starts the fakes, runs the bare client's burst (unless NoBaseline)
// and then the bot's, and checks that every listed person was reset once
// and got their password. A failed check is a Problem, not an error: the
// figures are still worth reading. An error means the test could not run.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Users < 1 {
		return Result{}, errors.New("users must be at least 1")
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Idle == 0 {
		o.Idle = 2 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	o.Replicas = max(o.Replicas, 1)
	if o.Replicas > 1 && o.PostgresURL == "" {
		return Result{}, errors.New("several replicas need PostgreSQL (-store postgres)")
	}
	if o.RecordingBaseline && (o.PostgresURL == "" || o.NoBaseline) {
		return Result{}, errors.New("the recording baseline needs PostgreSQL (-store postgres) and the baseline")
	}
	if o.Replicas > 1 && o.InProcess {
		return Result{}, errors.New("several replicas run in child processes only")
	}
	people := People(o.Users)
	res := Result{Users: o.Users, IAMLatency: o.IAMLatency.String(), Tiers: o.RateLimits != nil,
		IAMRate: o.IAMRate, Concurrency: o.Concurrency, BotProcess: "child", Replicas: o.Replicas, Store: "sqlite",
		BaselineLast: o.BaselineLast}
	if o.PostgresURL != "" {
		res.Store = "postgres"
	}
	if res.Concurrency == 0 {
		res.Concurrency = config.Default().Reset.Concurrency
	}
	if o.InProcess {
		res.BotProcess = "in-process"
	}

	baselines := func() error {
		if !o.NoBaseline {
			lat, err := runBaseline(ctx, o, people, false)
			if err != nil {
				return fmt.Errorf("baseline: %w", err)
			}
			res.Baseline, res.BaselineAnswers = &lat, o.AnswerAcks
			res.BaselineClients = cmp.Or(o.BaselineClients, o.Replicas)
			fmt.Fprintf(o.Progress, "baseline: ack p50 %v p99 %v max %v\n", lat.P50, lat.P99, lat.Max)
		}
		if o.RecordingBaseline {
			lat, err := runBaseline(ctx, o, people, true)
			if err != nil {
				return fmt.Errorf("recording baseline: %w", err)
			}
			res.RecordingBaseline = &lat
			fmt.Fprintf(o.Progress, "recording baseline: ack p50 %v p99 %v max %v\n", lat.P50, lat.P99, lat.Max)
		}
		return nil
	}
	if !o.BaselineLast {
		if err := baselines(); err != nil {
			return res, err
		}
	}
	if err := runBotBurst(ctx, o, people, &res); err != nil {
		return res, err
	}
	if o.BaselineLast {
		if err := baselines(); err != nil {
			return res, err
		}
	}
	if res.Baseline != nil && res.Baseline.P99 > 0 {
		res.AckRatioP99 = float64(res.Ack.P99) / float64(res.Baseline.P99)
	}
	if res.RecordingBaseline != nil && res.RecordingBaseline.P99 > 0 {
		res.AckRatioRecordingP99 = float64(res.Ack.P99) / float64(res.RecordingBaseline.P99)
	}
	return res, nil
}

// newSlack starts a fake Slack that knows every person.
func newSlack(people []Person, limits map[string]int, spread bool) *fakeslack.Server {
	s := fakeslack.New(fakeslack.Options{RateLimits: limits, Spread: spread})
	for _, p := range people {
		s.AddUser(fakeslack.User{ID: p.SlackUser, Name: p.IAMUser})
	}
	return s
}

func startSide(o Options, role string, spec BotSpec) (Side, error) {
	if o.InProcess {
		return startInProcess(role, spec, io.Discard), nil
	}
	return startChild(role, spec, o.CPUProfile, o.MemProfile, os.Stderr)
}

// runBaseline measures the bare clients' acks for the same burst, against
// a fake Slack of its own; recording, with each command recorded before
// its ack in a fresh schema on o.PostgresURL's server.
func runBaseline(ctx context.Context, o Options, people []Person, recording bool) (Latencies, error) {
	n := o.BaselineClients
	if n == 0 {
		n = o.Replicas
	}
	slk := newSlack(people, nil, n > 1)
	defer slk.Close()
	dir, err := os.MkdirTemp("", "aws-reset-loadtest-")
	if err != nil {
		return Latencies{}, err
	}
	defer os.RemoveAll(dir)
	spec := BotSpec{SlackAPIURL: slk.APIURL(), StoreDir: dir, AnswerAcks: o.AnswerAcks}
	if recording {
		u, drop, err := freshSchema(ctx, o.PostgresURL, recordingTableSQL)
		if err != nil {
			return Latencies{}, err
		}
		defer drop()
		spec.DatabaseURL = u
	}
	var sides []Side
	var errs []error
	for range n {
		side, err := startSide(Options{InProcess: o.InProcess}, "baseline", spec)
		if err != nil {
			errs = append(errs, err)
			break
		}
		sides = append(sides, side)
	}
	var lat Latencies
	if len(errs) == 0 {
		lat, err = connectAndBurst(ctx, slk, people, n)
		errs = append(errs, err)
	}
	for _, side := range sides {
		_, stopErr := side.Stop()
		errs = append(errs, stopErr)
	}
	return lat, errors.Join(errs...)
}

// connectAndBurst waits for clients Socket Mode clients, sends one slash
// command per person as fast as the sockets take them (as Slack pushes
// them down its connections), and waits for every ack.
func connectAndBurst(ctx context.Context, slk *fakeslack.Server, people []Person, clients int) (Latencies, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := slk.WaitOpenConnections(cctx, clients); err != nil {
		return Latencies{}, fmt.Errorf("not all %d connected: %w", clients, err)
	}
	return burstAndAcks(ctx, slk, people)
}

// burstAndAcks sends the burst, waits for every ack, and sums up the acks
// with what the machine's CPUs did meanwhile (see steal.go).
func burstAndAcks(ctx context.Context, slk *fakeslack.Server, people []Person) (Latencies, error) {
	cpu0, cpuOK := readCPUTimes()
	sent, err := burst(ctx, slk, people)
	if err != nil {
		return Latencies{}, err
	}
	acks, err := waitAcks(ctx, slk, sent, time.Minute)
	if err != nil {
		return Latencies{}, err
	}
	lat := Summarize(acks)
	if cpu1, ok := readCPUTimes(); ok && cpuOK {
		lat.CPUStolen, lat.CPUBusy = stolenShare(cpu0, cpu1), Duration(busyTime(cpu0, cpu1))
	}
	return lat, nil
}

type sentEnvelope struct {
	id string
	at time.Time
}

func burst(ctx context.Context, slk *fakeslack.Server, people []Person) ([]sentEnvelope, error) {
	sent := make([]sentEnvelope, 0, len(people))
	for _, p := range people {
		at := time.Now()
		id, err := slk.SlashCommand(ctx, fakeslack.SlashCommand{UserID: p.SlackUser})
		if err != nil {
			return nil, fmt.Errorf("send the command of %s: %w", p.SlackUser, err)
		}
		// From the write to its connection: the fake's own time building
		// the envelope (under a lock its Web API shares with the bot's
		// calls) is not the client's.
		if sent, ok := slk.SentAt(id); ok {
			at = sent
		}
		sent = append(sent, sentEnvelope{id: id, at: at})
	}
	return sent, nil
}

// waitAcks waits until every sent envelope is acked and returns the ack
// latencies, from just before the envelope was written to its connection
// to the ack's arrival, read off the socket.
func waitAcks(ctx context.Context, slk *fakeslack.Server, sent []sentEnvelope, limit time.Duration) ([]time.Duration, error) {
	deadline := time.Now().Add(limit)
	for {
		acked := map[string]time.Time{}
		for _, a := range slk.Acks() {
			if _, dup := acked[a.EnvelopeID]; !dup {
				acked[a.EnvelopeID] = a.At
			}
		}
		var lat []time.Duration
		for _, s := range sent {
			if at, ok := acked[s.id]; ok {
				lat = append(lat, max(0, at.Sub(s.at)))
			}
		}
		if len(lat) == len(sent) {
			return lat, nil
		}
		if time.Now().After(deadline) {
			return lat, fmt.Errorf("%d of %d envelopes acked within %v", len(lat), len(sent), limit)
		}
		select {
		case <-ctx.Done():
			return lat, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// runBotBurst runs the real bot through the burst and checks the outcome.
func runBotBurst(ctx context.Context, o Options, people []Person, res *Result) error {
	slk := newSlack(people, o.RateLimits, o.Replicas > 1)
	defer slk.Close()
	iam := fakeaws.New(fakeaws.Options{Latency: o.IAMLatency, AccountAlias: "loadtest"})
	defer iam.Close()
	for _, p := range people {
		iam.AddUser(fakeaws.User{Name: p.IAMUser, LoginProfile: true, MFADevices: 1})
	}
	dir, err := os.MkdirTemp("", "aws-reset-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var dbURL string
	if o.PostgresURL != "" {
		u, drop, err := freshSchema(ctx, o.PostgresURL, "")
		if err != nil {
			return err
		}
		defer drop()
		dbURL = u
	}
	if o.WarmDMs {
		if err := rememberDMs(ctx, filepath.Join(dir, "aws-reset.db"), dbURL, people); err != nil {
			return err
		}
	}
	spec := BotSpec{SlackAPIURL: slk.APIURL(), IAMURL: iam.URL(), StoreDir: dir, People: people,
		Concurrency: o.Concurrency, IAMRate: o.IAMRate, Deadline: o.Deadline, SlackLimits: o.SlackLimits,
		DatabaseURL: dbURL}
	var sides []Side
	stopped := false
	defer func() {
		if !stopped {
			for _, s := range sides {
				_, _ = s.Stop()
			}
		}
	}()
	for range o.Replicas {
		side, err := startSide(o, "bot", spec)
		if err != nil {
			return err
		}
		sides = append(sides, side)
	}

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := slk.WaitOpenConnections(cctx, o.Replicas); err != nil {
		return fmt.Errorf("the bot never connected: %w", err)
	}
	select {
	case <-time.After(o.Idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, side := range sides {
		m, err := side.Memory()
		if err != nil {
			return fmt.Errorf("read the idle bot's memory: %w", err)
		}
		if m.PeakKiB > res.IdleMemory.PeakKiB {
			res.IdleMemory = m
		}
	}
	if o.Prepare != nil {
		o.Prepare(slk, iam)
	}

	start := time.Now()
	if res.Ack, err = burstAndAcks(ctx, slk, people); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "bot: ack p50 %v p99 %v max %v\n", res.Ack.P50, res.Ack.P99, res.Ack.Max)

	waitDeliveries(ctx, slk, len(people), o)
	stopped = true
	for i, side := range sides {
		m, err := side.Stop()
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("stopping replica %d: %v", i, err))
		}
		res.PeakKiBByReplica = append(res.PeakKiBByReplica, m.PeakKiB)
		if m.PeakKiB > res.FinalMemory.PeakKiB {
			res.FinalMemory = m
		}
	}

	out := Check(people, slk.Messages(), iam)
	res.Problems = append(res.Problems, out.Problems...)
	res.Delivered = out.Delivered
	if !out.LastPassword.IsZero() {
		res.LastPassword = Duration(out.LastPassword.Sub(start))
		res.ResetsPerSec = float64(out.Delivered) / out.LastPassword.Sub(start).Seconds()
	}
	if !out.LastNotice.IsZero() {
		res.LastNotice = Duration(out.LastNotice.Sub(start))
	}
	res.SlackCalls = countSlack(slk.Calls(""))
	iamCalls := iam.Calls("")
	res.IAMCalls = countIAM(iamCalls)
	if o.IAMRate > 0 {
		times := make([]time.Time, len(iamCalls))
		for i, c := range iamCalls {
			times[i] = c.At
		}
		res.IAMMaxInSecond, res.IAMRateSeen = RateSeen(times, time.Second)
		if limit := AllowedPerSecond(o.IAMRate); res.IAMMaxInSecond > limit {
			res.Problems = append(res.Problems, fmt.Sprintf("%d IAM calls within one second; the limit is %d", res.IAMMaxInSecond, limit))
		}
	}
	if o.RateLimits != nil {
		f := TierFloor(o.RateLimits, res.SlackCalls, len(people))
		res.Floor = &f
	}
	return nil
}

// rememberDMs records every person's DM channel in the store at path, as a
// previous run of the bot would have.
func rememberDMs(ctx context.Context, path, dbURL string, people []Person) error {
	var st interface {
		SetDMChannel(ctx context.Context, team, slackUser, channelID string, at time.Time) error
		Close() error
	}
	var err error
	if dbURL != "" {
		st, err = store.OpenPostgres(ctx, dbURL, nil)
	} else {
		st, err = store.Open(ctx, path)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	for _, p := range people {
		if err := st.SetDMChannel(ctx, fakeslack.TeamID, p.SlackUser, fakeslack.DMChannel(p.SlackUser), now); err != nil {
			return err
		}
	}
	return nil
}

// waitDeliveries waits until every person has a password and a notice, the
// timeout passes, or nothing has happened for five minutes.
func waitDeliveries(ctx context.Context, slk *fakeslack.Server, n int, o Options) {
	deadline := time.Now().Add(o.Timeout)
	last, lastChange := -1, time.Now()
	for time.Now().Before(deadline) && time.Since(lastChange) < 5*time.Minute {
		passwords, notices := 0, 0
		for _, m := range slk.Messages() {
			switch {
			case m.Ephemeral && strings.Contains(m.Text, passwordText):
				passwords++
			case !m.Ephemeral && strings.Contains(m.Text, noticeText):
				notices++
			}
		}
		if passwords+notices != last {
			last, lastChange = passwords+notices, time.Now()
			fmt.Fprintf(o.Progress, "%s: %d passwords, %d notices\n", time.Now().Format("15:04:05"), passwords, notices)
		}
		if passwords >= n && notices >= n {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}
