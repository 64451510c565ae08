package replicatest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read the shared database
)

const (
	replicas     = 3
	selfService  = 240 // people who need no approval: the burst
	toApprove    = 6   // approved (two replicas get the click at once), then revealed (the same)
	toExpire     = 4   // nobody decides: the approval expires
	toLeave      = 3   // approved, never revealed: the offer expires
	approver     = "U0ADMIN001"
	approvals    = "C0APPROVE1"
	approvalTime = 10 * time.Second // long enough for clicks queued behind the burst, under -race too
	replicaTTL   = 3 * time.Second

	actionApprove = "aws_reset_approve"
	actionReveal  = "aws_reset_reveal"
)

var (
	addrRE = regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`)
	idRE   = regexp.MustCompile(`"replica_id":"([^"]+)"`)
	// recordedRE finds at least one batch of acks recorded in /metrics.
	recordedRE = regexp.MustCompile(`(?m)^awsreset_ack_record_seconds_count [1-9]`)
)

// person is one listed person of the test.
type person struct{ slack, iam string }

func people(prefix string, n int) []person {
	ps := make([]person, n)
	for i := range ps {
		ps[i] = person{slack: fmt.Sprintf("U%s%05d", prefix, i), iam: fmt.Sprintf("%s%05d", strings.ToLower(prefix), i)}
	}
	return ps
}

// replica is one `bot run` process.
type replica struct {
	cmd            *exec.Cmd
	stdout, stderr leakcheck.Buffer
	done           chan struct{} // closed when the process has exited
	err            error         // its exit, once done
}

func (r *replica) logged(re *regexp.Regexp) string {
	if m := re.FindStringSubmatch(r.stderr.String()); m != nil {
		return m[1]
	}
	return ""
}

// startReplica runs `bot run --config cfgPath` with env, killed when the
// test ends if it is still running.
func startReplica(t *testing.T, bin, cfgPath string, env []string) *replica {
	t.Helper()
	r := &replica{done: make(chan struct{})}
	r.cmd = exec.Command(bin, "run", "--config", cfgPath)
	r.cmd.Env, r.cmd.Stdout, r.cmd.Stderr = env, &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// get answers a GET of url: the status and the body; 0 if it failed.
func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(resp)
}

// buildBot builds the real binary, once for the package's tests, into a
// temporary directory that the last caller's test removes.
func buildBot(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			built.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "replicatest-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		built.bin = filepath.Join(dir, "bot")
		build := exec.Command("go", "build", "-o", built.bin, "./bot")
		build.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if b, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./bot: %w\n%s", err, b)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// TestReplicas: three replicas on one PostgreSQL, a burst of commands
// spread over their connections, one replica killed abruptly mid-burst,
// duplicate clicks landing on two replicas at the same instant, and
// expiry sweeps due while all of them run.
func TestReplicas(t *testing.T) {
	dbURL := pgtest.Schema(t)
	bin := buildBot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()

	slack := fakeslack.New(fakeslack.Options{Spread: true, RedeliverAfter: time.Second})
	defer slack.Close()
	iam := fakeaws.New(fakeaws.Options{AccountAlias: "example-co", Latency: 20 * time.Millisecond})
	defer iam.Close()

	self, approved, expiring, leaving := people("S", selfService), people("A", toApprove), people("E", toExpire), people("L", toLeave)
	slack.AddUser(fakeslack.User{ID: approver, Name: "admin"})
	slack.AddNamedChannel(approvals, "approvals", fakeslack.BotUserID, approver)
	var users strings.Builder
	for _, group := range [][]person{self, approved, expiring, leaving} {
		for _, p := range group {
			slack.AddUser(fakeslack.User{ID: p.slack, Name: p.iam})
			iam.AddUser(fakeaws.User{Name: p.iam, LoginProfile: true, MFADevices: 1})
			fmt.Fprintf(&users, "  - {slack_user: %s, iam_user: %s, approval: %v}\n", p.slack, p.iam, p.slack[1] != 'S')
		}
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`slack:
  api_url: %s
store:
  replica_timeout: %s
approval:
  channel: %s
  approvers: [%s]
  timeout: %s
reset:
  concurrency: 16
http:
  addr: 127.0.0.1:0
log:
  format: json
users:
%s`, slack.APIURL(), replicaTTL, approvals, approver, approvalTime, users.String())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(), "SLACK_APP_TOKEN="+fakeslack.AppToken, "SLACK_BOT_TOKEN="+fakeslack.BotToken, "DATABASE_URL="+dbURL)
	for k, v := range iam.Env() {
		env = append(env, k+"="+v)
	}
	bots := make([]*replica, replicas)
	for i := range bots {
		bots[i] = startReplica(t, bin, cfgPath, env)
	}
	if err := slack.WaitOpenConnections(ctx, replicas); err != nil {
		t.Fatalf("replicas did not all connect: %v\n%s", err, bots[0].stderr.String())
	}
	metricsOf := func(r *replica) string {
		addr := r.logged(addrRE)
		if addr == "" {
			return ""
		}
		_, body := get("http://" + addr + "/metrics")
		return body
	}
	// Each replica counts the others within a heartbeat (a third of the TTL).
	waitUntil(t, ctx, "every replica to count 3 replicas", func() bool {
		for _, r := range bots {
			if !strings.Contains(metricsOf(r), "awsreset_replicas 3\n") {
				return false
			}
		}
		return true
	})

	// Requests that wait for an approver, before the burst.
	var approvalIDs []string
	for _, group := range [][]person{approved, expiring, leaving} {
		for _, p := range group {
			id, err := slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: p.slack})
			if err != nil {
				t.Fatal(err)
			}
			approvalIDs = append(approvalIDs, id)
		}
	}
	approvalMsg := map[string]fakeslack.Message{} // by owner
	for _, p := range slices.Concat(approved, leaving) {
		m, err := slack.WaitMessage(ctx, func(m fakeslack.Message) bool {
			return m.Channel == approvals && strings.Contains(m.Text, "<@"+p.slack+">") && hasButton(m.Blocks, actionApprove)
		})
		if err != nil {
			t.Fatalf("no approval request for %s: %v", p.slack, err)
		}
		approvalMsg[p.slack] = m
	}

	// The burst, with a replica killed half-way and clicks delivered to
	// two replicas at once while it runs.
	connsBefore := slack.OpenConnectionIDs()
	victim := bots[1]
	victimID := victim.logged(idRE)
	envelopeOf := map[string]string{} // slack user -> envelope ID
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan person)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				id, err := slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: p.slack})
				if err != nil {
					t.Errorf("slash command of %s: %v", p.slack, err)
					continue
				}
				mu.Lock()
				envelopeOf[p.slack] = id
				mu.Unlock()
			}
		}()
	}
	for i, p := range self {
		if i == selfService/2 {
			if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL: no goodbye
				t.Fatal(err)
			}
			// The clicks go to two live replicas' connections, once the fake
			// has seen the dead one close (the senders finish the commands
			// they hold meanwhile, and the burst then goes on).
			if err := slack.WaitOpenConnections(ctx, replicas-1); err != nil {
				t.Fatal(err)
			}
			for _, p := range slices.Concat(approved, leaving) {
				click(t, ctx, slack, approver, approvalMsg[p.slack], actionApprove)
			}
		}
		work <- p
	}
	close(work)
	wg.Wait()
	<-victim.done
	// The live replicas recorded the commands they acked, and say how long
	// the acks waited for it.
	for i, r := range bots {
		if r != victim && !recordedRE.MatchString(metricsOf(r)) {
			t.Errorf("replica %d's /metrics shows no batch of acks recorded", i)
		}
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Which requests the dead replica held when it died (read now: the
	// sweep drops the holders of requests once they end): those end with
	// an offer, or a password it delivered before it died, or both when it
	// died between delivering and recording.
	heldByVictim := map[string]bool{} // slack user
	rows, err := db.QueryContext(ctx, `SELECT r.slack_user FROM requests r JOIN request_holders h ON h.request_id = r.id
		WHERE h.replica_id = $1`, victimID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		heldByVictim[u] = true
	}
	rows.Close()

	if err := slack.WaitOpenConnections(ctx, replicas-1); err != nil {
		t.Fatal(err)
	}
	var victimConn int
	for _, id := range connsBefore {
		if !slices.Contains(slack.OpenConnectionIDs(), id) {
			victimConn = id
		}
	}

	// Owners of approved requests reveal, twice at once on two replicas.
	for _, p := range approved {
		offer, err := slack.WaitMessage(ctx, func(m fakeslack.Message) bool {
			return m.Channel == fakeslack.DMChannel(p.slack) && hasButton(m.Blocks, actionReveal)
		})
		if err != nil {
			t.Fatalf("no offer to %s: %v", p.slack, err)
		}
		click(t, ctx, slack, p.slack, offer, actionReveal)
	}

	// Who the dead replica acked and never worked on: Slack will not send
	// those again, and the ack said "working on it". Another replica tells
	// each of them, once, that nothing was started; they run the command
	// again.
	// Each command is recorded before its ack, so none may be acked and
	// unrecorded ("silent").
	ackedOn := map[string]fakeslack.Ack{}
	for _, a := range slack.Acks() {
		ackedOn[a.EnvelopeID] = a
	}
	requestIDRE := regexp.MustCompile(`request (R[0-9A-Z]{10})`)
	var lost, silent []person
	for _, p := range self {
		a := ackedOn[envelopeOf[p.slack]]
		if a.Conn != victimConn {
			continue
		}
		var n, recorded int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM requests WHERE slack_user = $1", p.slack).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			continue
		}
		if m := requestIDRE.FindStringSubmatch(string(a.Payload)); m != nil {
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM request_holders WHERE request_id = $1", m[1]).Scan(&recorded); err != nil {
				t.Fatal(err)
			}
		}
		if recorded == 0 {
			silent = append(silent, p)
		} else {
			lost = append(lost, p)
		}
	}
	lostNotice := func(p person) func(fakeslack.Message) bool {
		return func(m fakeslack.Message) bool {
			return m.Channel == fakeslack.DMChannel(p.slack) && strings.Contains(m.Text, "was interrupted before anything was done")
		}
	}
	if len(silent) > 0 {
		t.Errorf("%d commands acked by the killed replica were never recorded (%v): each is recorded before its ack", len(silent), silent)
	}
	for _, p := range lost {
		// Another replica tells them, once the dead one's heartbeat is stale.
		waitMessage(t, ctx, slack, "the notice to "+p.slack+" that nothing was started", lostNotice(p))
	}
	for _, p := range slices.Concat(lost, silent) {
		if _, err := slack.SlashCommand(ctx, fakeslack.SlashCommand{UserID: p.slack}); err != nil {
			t.Fatal(err)
		}
	}

	passwordTo := func(p person) func(fakeslack.Message) bool {
		return func(m fakeslack.Message) bool {
			return m.Ephemeral && m.User == p.slack && strings.Contains(string(m.Blocks), "temporary AWS console password")
		}
	}
	interruptedTo := func(p person) func(fakeslack.Message) bool { // the offer of an interrupted reset
		return func(m fakeslack.Message) bool {
			return m.Channel == fakeslack.DMChannel(p.slack) && strings.Contains(m.Text, "was interrupted:") && hasButton(m.Blocks, actionReveal)
		}
	}
	for _, p := range slices.Concat(self, approved) {
		waitMessage(t, ctx, slack, "a password or an offer for "+p.slack, func(m fakeslack.Message) bool {
			return passwordTo(p)(m) || interruptedTo(p)(m)
		})
	}
	for _, p := range expiring {
		waitMessage(t, ctx, slack, "expiry of "+p.slack+"'s approval", func(m fakeslack.Message) bool {
			return m.Channel == fakeslack.DMChannel(p.slack) && strings.Contains(m.Text, "so it expired")
		})
	}
	for _, p := range leaving {
		waitMessage(t, ctx, slack, "expiry of "+p.slack+"'s offer", func(m fakeslack.Message) bool {
			return m.Channel == fakeslack.DMChannel(p.slack) && strings.Contains(m.Text, "expired before you asked")
		})
	}
	// Let the sweeps run a few more times on every replica: nothing more
	// may happen (expiries of the dead replica's offers aside).
	// (An observation window, not a synchronisation: nothing should come.)
	select {
	case <-time.After(3 * approvalTime / 10):
	case <-ctx.Done():
	}

	// Now the outcomes, each exactly once.
	calls := iam.Calls("UpdateLoginProfile")
	for _, p := range slices.Concat(self, approved) {
		pw, offers := count(slack, passwordTo(p)), count(slack, interruptedTo(p))
		n := 0
		for _, c := range calls {
			if c.Params.Get("UserName") == p.iam && c.Status == http.StatusOK {
				n++
			}
		}
		switch {
		case heldByVictim[p.slack]:
			if pw > 1 || offers > 1 || pw+offers == 0 {
				t.Errorf("%s (held by the killed replica): %d passwords, %d offers; want one of either (both if it died between delivering and recording)", p.slack, pw, offers)
			}
		case pw != 1 || offers != 0:
			t.Errorf("%s: %d passwords, %d offers; want exactly one password", p.slack, pw, offers)
		}
		if n > 1 {
			t.Errorf("%s: IAM got %d new passwords; want at most 1", p.iam, n)
		}
	}
	for _, p := range self {
		want := 0
		if slices.Contains(lost, p) {
			want = 1
		}
		if n := count(slack, lostNotice(p)); n != want {
			t.Errorf("%s: told %d times that their command was lost; want %d", p.slack, n, want)
		}
	}
	for _, p := range approved {
		n := 0 // posts, not messages as they now stand: the reveal replaces the offer
		for _, c := range slack.Calls("chat.postMessage") {
			if c.Params.Get("channel") == fakeslack.DMChannel(p.slack) && strings.Contains(c.Params.Get("text"), "approved resetting") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d approval offers after a click delivered to two replicas; want 1", p.slack, n)
		}
	}
	for _, tt := range []struct {
		action string
		who    []person
	}{
		{"approved", slices.Concat(approved, leaving)},
		{"expired", expiring},
	} {
		for _, p := range tt.who {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit WHERE action = $1 AND target = $2", tt.action, p.slack).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("audit rows %q for %s = %d; want 1", tt.action, p.slack, n)
			}
		}
	}
	for _, group := range [][]person{expiring, leaving} {
		for _, p := range group {
			if n := count(slack, func(m fakeslack.Message) bool {
				return m.Channel == fakeslack.DMChannel(p.slack) && strings.Contains(m.Text, "expired")
			}); n != 1 {
				t.Errorf("%s: %d expiry messages; want 1", p.slack, n)
			}
		}
	}
	var offered int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) - COUNT(DISTINCT request_id) FROM audit WHERE action = 'offered'").Scan(&offered); err != nil {
		t.Fatal(err)
	}
	if offered != 0 {
		t.Errorf("%d requests offered again more than once", offered)
	}
	t.Logf("burst of %d over %d replicas, one killed: %d requests it held; %d commands it acked and never worked on, told by another (and ran again); "+
		"%d acked unrecorded; %d redelivered envelopes",
		selfService, replicas, len(heldByVictim), len(lost), len(silent), len(slack.Redelivered()))
	if os.Getenv("REPLICATEST_DEBUG") != "" {
		t.Logf("victim's log:\n%s", tail(victim.stderr.String()))
	}

	// Stop the rest cleanly; then nothing may have leaked anywhere.
	for i, r := range bots {
		if r == victim {
			continue
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
			if r.err != nil {
				t.Errorf("replica %d after SIGTERM: %v\n%s", i, r.err, tail(r.stderr.String()))
			}
		case <-ctx.Done():
			t.Fatalf("replica %d did not stop", i)
		}
	}
	places := map[string][]byte{}
	for i, r := range bots {
		places[fmt.Sprintf("replica %d's log", i)] = []byte(r.stderr.String())
		places[fmt.Sprintf("replica %d's output", i)] = []byte(r.stdout.String())
	}
	for _, leak := range leakcheck.Find(append(fakeslack.Secrets(), iam.Secrets()...), places) {
		t.Error(leak)
	}
	_ = approvalIDs
}

// click presses the button actionID of m as user, delivered to two
// replicas at the same instant.
func click(t *testing.T, ctx context.Context, slack *fakeslack.Server, user string, m fakeslack.Message, actionID string) {
	t.Helper()
	value, ok := buttonValue(m.Blocks, actionID)
	if !ok {
		t.Fatalf("no %s button in %q", actionID, m.Text)
	}
	if _, err := slack.BlockActionOnEach(ctx, fakeslack.BlockAction{UserID: user, ChannelID: m.Channel, MessageTS: m.TS,
		ActionID: actionID, Value: value}, 2); err != nil {
		t.Fatal(err)
	}
}

func hasButton(blocks json.RawMessage, actionID string) bool {
	_, ok := buttonValue(blocks, actionID)
	return ok
}

// buttonValue finds the value of the button actionID in an actions block.
func buttonValue(blocks json.RawMessage, actionID string) (string, bool) {
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return "", false
	}
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value, true
			}
		}
	}
	return "", false
}

func count(slack *fakeslack.Server, match func(fakeslack.Message) bool) int {
	n := 0
	for _, m := range slack.Messages() {
		if match(m) {
			n++
		}
	}
	return n
}

// waitMessage waits, woken by the fake at each change, for a message
// that matches.
func waitMessage(t *testing.T, ctx context.Context, slack *fakeslack.Server, what string, match func(fakeslack.Message) bool) {
	t.Helper()
	if _, err := slack.WaitMessage(ctx, match); err != nil {
		t.Fatalf("gave up waiting for %s: %v", what, err)
	}
}

// waitUntil is for what only another process shows (its log, its
// /readyz, its /metrics), which no fake can wake us for: it checks cond
// every 50ms until it holds, failing at ctx's end.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-tick.C:
		}
	}
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
