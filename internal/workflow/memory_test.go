package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// memSlack is an in-memory Messenger: people, groups, DMs, and every
// message sent, in order.
type memSlack struct {
	mu     sync.Mutex
	people map[string]Person
	groups map[string][]string
	sent   []sent
	fail   map[string]error // by method: "post", "ephemeral", "open", "update", "groups"
	ts     int
}

type sent struct {
	Method, Channel, User, TS string
	Msg                       slacktext.Message
}

// body is what a person would read of the message: its text and blocks.
func (s sent) body() string {
	b, _ := json.Marshal(s.Msg.Blocks)
	return s.Msg.Text + "\n" + string(b)
}

const team = "T0TEAM0001"

func newMemSlack() *memSlack {
	return &memSlack{people: map[string]Person{}, groups: map[string][]string{}, fail: map[string]error{}}
}

func (m *memSlack) add(p Person) {
	if p.TeamID == "" {
		p.TeamID = team
	}
	m.people[p.ID] = p
}

func dmOf(user string) string { return "D" + user[1:] }

func (m *memSlack) OpenDM(_ context.Context, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["open"]; err != nil {
		return "", err
	}
	return dmOf(user), nil
}

func (m *memSlack) record(method, channel, user string, msg slacktext.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail[method]; err != nil {
		return "", err
	}
	m.ts++
	ts := fmt.Sprintf("1700000000.%06d", m.ts)
	m.sent = append(m.sent, sent{Method: method, Channel: channel, User: user, TS: ts, Msg: msg})
	return ts, nil
}

func (m *memSlack) Post(_ context.Context, channel string, msg slacktext.Message) (string, error) {
	return m.record("post", channel, "", msg)
}

func (m *memSlack) Ephemeral(_ context.Context, channel, user string, msg slacktext.Message) error {
	_, err := m.record("ephemeral", channel, user, msg)
	return err
}

func (m *memSlack) Update(_ context.Context, channel, ts string, msg slacktext.Message) error {
	_, err := m.record("update", channel, "", msg)
	return err
}

func (m *memSlack) UserInfo(_ context.Context, user string) (Person, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.people[user]
	if !ok {
		return Person{}, errors.New("user_not_found")
	}
	return p, nil
}

func (m *memSlack) GroupMembers(_ context.Context, group string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["groups"]; err != nil {
		return nil, err
	}
	return append([]string(nil), m.groups[group]...), nil
}

// find returns the messages of a method to a channel whose body contains want.
func (m *memSlack) find(method, channel, want string) []sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sent
	for _, s := range m.sent {
		if s.Method == method && (channel == "" || s.Channel == channel) && strings.Contains(s.body(), want) {
			out = append(out, s)
		}
	}
	return out
}

func (m *memSlack) dump() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, s := range m.sent {
		fmt.Fprintf(&b, "%s %s %s: %s\n", s.Method, s.Channel, s.User, s.Msg.Text)
	}
	return b.String()
}

// memIAM is an in-memory Resetter.
type memIAM struct {
	mu         sync.Mutex
	accounts   map[string]reset.Account
	resets     []string
	passwords  []string
	scrambled  []string
	err        error  // of Reset
	inspectErr error  // of Inspect
	onInspect  func() // runs once, in the next Inspect, outside the lock
	onReset    func() // runs once, in the next Reset, outside the lock: while IAM "works"
	hang       bool   // Reset answers only when its context ends, as an IAM that never answers
}

func (r *memIAM) Reset(ctx context.Context, user string) (password.Secret, error) {
	r.mu.Lock()
	hook, hang := r.onReset, r.hang
	r.onReset = nil
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	if hang {
		<-ctx.Done()
		return password.Secret{}, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return password.Secret{}, r.err
	}
	if _, ok := r.accounts[user]; !ok {
		return password.Secret{}, reset.ErrNoSuchUser
	}
	r.resets = append(r.resets, user)
	gen, err := password.NewGenerator(20)
	if err != nil {
		return password.Secret{}, err
	}
	secret, err := gen.Generate(password.DefaultPolicy())
	if err == nil {
		r.passwords = append(r.passwords, secret.Reveal())
	}
	return secret, err
}

func (r *memIAM) Check(context.Context, string) error { return nil }

func (r *memIAM) Inspect(_ context.Context, user string) (reset.Account, error) {
	r.mu.Lock()
	hook := r.onInspect
	r.onInspect = nil
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inspectErr != nil {
		return reset.Account{}, r.inspectErr
	}
	a, ok := r.accounts[user]
	if !ok {
		return reset.Account{}, reset.ErrNoSuchUser
	}
	return a, nil
}

func (r *memIAM) Scramble(_ context.Context, user string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scrambled = append(r.scrambled, user)
	return nil
}

func (r *memIAM) resetCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.resets)
}

// flowTest is a Workflow on the in-memory Slack and IAM and a real SQLite
// store in a temp dir, with a clock the test moves.
type flowTest struct {
	t     *testing.T
	cfg   config.Config
	slack *memSlack
	iam   *memIAM
	store *store.SQLite
	// accts are the resetters of aws.accounts, by name (accounts_test.go).
	accts map[string]Resetter
	// log, if set, receives the workflow's log.
	log  io.Writer
	flow *Workflow
	now  time.Time
	// reps are the replicas made by replica (replicas_test.go), by ID.
	reps map[string]*Replica
}

const (
	alice    = "U0ALICE001"
	carol    = "U0CAROL001"
	admin    = "U0ADMIN001"
	admin2   = "U0ADMIN002"
	stranger = "U0STRANGE1"
	group    = "S0ADMINS01"
	channel  = "C0APPROVE1"
)

func newFlowTest(t *testing.T, edit func(*config.Config)) *flowTest {
	t.Helper()
	cfg := config.Default()
	cfg.Reset.Cooldown = 0
	cfg.Users = []config.User{{SlackUser: alice, IAMUser: "alice"}, {SlackUser: carol, IAMUser: "carol"},
		{SlackUser: admin, IAMUser: "adminuser"}}
	if edit != nil {
		edit(&cfg)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "flow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ft := &flowTest{t: t, slack: newMemSlack(), store: st, now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		iam: &memIAM{accounts: map[string]reset.Account{
			"alice": {Path: "/", MFADevices: 1}, "carol": {Path: "/", MFADevices: 1}, "adminuser": {Path: "/", MFADevices: 1},
		}}}
	for _, id := range []string{alice, carol, admin, admin2, stranger} {
		ft.slack.add(Person{ID: id})
	}
	ft.slack.groups[group] = []string{admin2}
	ft.cfg = cfg
	ft.restart(nil)
	return ft
}

// restart makes a new Workflow on the same store, Slack and IAM, with the
// configuration edited as an operator would between two runs, and runs
// what Start hands back, as the transport's pool would.
func (ft *flowTest) restart(edit func(*config.Config)) {
	ft.t.Helper()
	if edit != nil {
		edit(&ft.cfg)
	}
	flow, err := New(Options{Config: ft.cfg, Slack: ft.slack, Resetter: ft.iam, Store: ft.store, ConsoleURL: "https://example.signin.aws.amazon.com/console",
		Logger: ft.logger(), Now: func() time.Time { return ft.now }, Accounts: ft.accountOptions()})
	if err != nil {
		ft.t.Fatal(err)
	}
	for _, job := range flow.Start(context.Background(), Identity{TeamID: team, UserID: "U0BOT00001"}) {
		job(context.Background())
	}
	ft.flow = flow
}

// request reads a request from the store.
func (ft *flowTest) request(id string) request.Request {
	ft.t.Helper()
	r, err := ft.store.Request(context.Background(), id)
	if err != nil {
		ft.t.Fatal(err)
	}
	return r
}

func withApprovals(c *config.Config) {
	c.Approval.Channel = channel
	c.Approval.Approvers = []string{admin, group}
}

// command runs a slash command through Preflight and HandleCommand, as
// the transport would, and returns the request ID.
func (ft *flowTest) command(user, text string) string {
	ft.t.Helper()
	cmd := Command{EnvelopeID: "E" + request.NewID(), Command: "/aws-reset", Text: text, UserID: user, TeamID: team}
	id, _ := ft.flow.Preflight(cmd)
	if id == "" {
		ft.t.Fatalf("Preflight(%q) answered without work", text)
	}
	ft.flow.HandleCommand(context.Background(), cmd, id)
	return id
}

// click presses a button the bot sent, as user, in the channel it was sent to.
func (ft *flowTest) click(user string, m sent, actionID string) {
	ft.t.Helper()
	c := Click{UserID: user, UserTeamID: team, TeamID: team, ChannelID: m.Channel, MessageTS: m.TS, ActionID: actionID}
	for _, b := range m.Msg.Blocks {
		raw, _ := json.Marshal(b)
		var ab struct {
			BlockID  string `json:"block_id"`
			Elements []struct {
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
			} `json:"elements"`
		}
		_ = json.Unmarshal(raw, &ab)
		for _, e := range ab.Elements {
			if e.ActionID == actionID {
				c.BlockID, c.Value = ab.BlockID, e.Value
			}
		}
	}
	if c.Value == "" {
		ft.t.Fatalf("no %s button in %q", actionID, m.Msg.Text)
	}
	ft.flow.HandleClick(context.Background(), c)
}

// one returns the only message matching, or fails.
func (ft *flowTest) one(method, channel, want string) sent {
	ft.t.Helper()
	got := ft.slack.find(method, channel, want)
	if len(got) != 1 {
		ft.t.Fatalf("%d %s messages in %s containing %q; want 1:\n%s", len(got), method, channel, want, ft.slack.dump())
	}
	return got[0]
}

// seed records a self-service request for user in state, as a previous
// run would have left it.
func (ft *flowTest) seed(user, iamUser string, state request.State) string {
	ft.t.Helper()
	ctx := context.Background()
	r := request.Request{ID: request.NewID(), Token: request.NewToken(), EnvelopeID: "E" + request.NewID(), TeamID: team,
		SlackUser: user, IAMUser: iamUser, RequestedBy: user, State: request.Approved, CreatedAt: ft.now, UpdatedAt: ft.now}
	if _, err := ft.store.CreateRequest(ctx, r, 0); err != nil {
		ft.t.Fatal(err)
	}
	if state != request.Approved {
		if _, err := ft.store.Move(ctx, r.ID, []request.State{request.Approved}, state, ft.now, nil); err != nil {
			ft.t.Fatal(err)
		}
	}
	return r.ID
}
