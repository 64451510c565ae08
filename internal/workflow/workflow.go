// Package workflow is the life of a password reset request, apart from how
// Slack is spoken to: who may ask, the limits, the record, the approval,
// the reset, the delivery, the resume after a restart and the sweeps.
//
// It reaches people through a Messenger it declares itself (package
// slackbot implements it over the Slack Web API), so its rules are tested
// against an in-memory messenger as well as over the wire. It never
// imports slack-go: messages are built with package slacktext.
//
// The flow of one request, and its states, are in docs/ARCHITECTURE.md.
package workflow

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// Messenger is what the workflow needs of Slack.
type Messenger interface {
	// OpenDM returns the ID of the bot's DM channel with a user.
	OpenDM(ctx context.Context, userID string) (string, error)
	// Post posts a lasting message and returns its timestamp.
	Post(ctx context.Context, channel string, m slacktext.Message) (ts string, err error)
	// Ephemeral shows a message in channel to userID alone.
	Ephemeral(ctx context.Context, channel, userID string, m slacktext.Message) error
	// Update replaces the message at (channel, ts).
	Update(ctx context.Context, channel, ts string, m slacktext.Message) error
	// UserInfo looks a person up, fresh.
	UserInfo(ctx context.Context, userID string) (Person, error)
	// GroupMembers lists the members of a user group, fresh.
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
	ViewMessenger
}

// Person is what Slack says of a user, as far as the workflow cares.
type Person struct {
	ID, TeamID, EnterpriseID string
	Deleted                  bool // deactivated
	Bot                      bool // a bot, an app user or Slackbot
	Guest                    bool // a single- or multi-channel guest
}

// Resetter sets new console passwords.
type Resetter interface {
	Reset(ctx context.Context, iamUser string) (password.Secret, error)
	Check(ctx context.Context, iamUser string) error
	Inspect(ctx context.Context, iamUser string) (reset.Account, error)
	Scramble(ctx context.Context, iamUser string) error
}

// Store keeps requests and the audit trail. Every decision is one
// conditional write in it, so two clicks, two replicas or a click racing a
// sweep can never both win.
type Store interface {
	// CreateRequest records r, refusing in the same transaction a
	// redelivered envelope, a second active request of the person, and a
	// request within cooldown of the person's last delivery (so the rules
	// hold however many commands, or replicas, race).
	CreateRequest(ctx context.Context, r request.Request, cooldown time.Duration) (request.Request, error)
	Request(ctx context.Context, id string) (request.Request, error)
	RequestByToken(ctx context.Context, token string) (request.Request, error)
	Move(ctx context.Context, id string, from []request.State, to request.State, now time.Time, update func(*request.Request)) (request.Request, error)
	// MoveIf is Move that also requires cond of the request as stored.
	MoveIf(ctx context.Context, id string, from []request.State, to request.State, now time.Time,
		cond func(request.Request) bool, update func(*request.Request)) (request.Request, error)
	SetApprovalMessage(ctx context.Context, id, channel, ts string) error
	RequestsInState(ctx context.Context, state request.State) ([]request.Request, error)
	ExpiredPending(ctx context.Context, now time.Time) ([]request.Request, error)
	AppendAudit(ctx context.Context, e request.AuditEvent) error
	// UnusedCandidates lists each IAM user's latest delivery made before
	// deliveredBefore whose sign-in nobody has checked yet;
	// ClaimUnusedCheck claims one, only if it is still the latest.
	UnusedCandidates(ctx context.Context, deliveredBefore time.Time) ([]request.Request, error)
	ClaimUnusedCheck(ctx context.Context, requestID string, at time.Time) (bool, error)
	// DMChannel and SetDMChannel remember the bot's DM channel with each
	// person, so a restart does not call conversations.open (Tier 3) again
	// for everyone.
	DMChannel(ctx context.Context, team, slackUser string) (string, error)
	SetDMChannel(ctx context.Context, team, slackUser, channelID string, at time.Time) error
	ApprovalStore
}

// Identity is the bot's own place in Slack, from auth.test.
type Identity struct {
	TeamID, EnterpriseID, UserID, BotID string
}

// Options configures a Workflow.
type Options struct {
	Config     config.Config
	Slack      Messenger
	Resetter   Resetter
	Store      Store
	ConsoleURL string // where people sign in
	Logger     *slog.Logger
	Metrics    *metrics.Metrics // may be nil
	Now        func() time.Time // default time.Now
	// Accounts are the AWS accounts of aws.accounts, by name, each with
	// its own resetter and sign-in URL; Resetter and ConsoleURL are the
	// bot's own account's. Every name in aws.accounts must be here.
	Accounts map[string]Account
	// ChoiceKey signs the account buttons a person with several accounts
	// is offered; replicas given the same key accept each other's buttons.
	// Nil: a random key of this process's own.
	ChoiceKey []byte
	// Replica is this process's place among replicas; nil: one process,
	// sharing nothing.
	Replica *Replica
}

// Workflow drives requests. Make one with New; call Start once the bot
// knows its own identity, before any command or click.
type Workflow struct {
	cfg      config.Config
	slack    Messenger
	resetter Resetter
	store    Store
	console  string
	log      *slog.Logger
	metrics  *metrics.Metrics
	now      func() time.Time
	listed   map[string][]config.User // allowlist entries by Slack user ID, in the file's order; read-only
	accounts map[string]Account       // by name; "" is the bot's own
	choice   []byte                   // key of the account buttons

	self Identity // set by Start

	replica   *Replica    // nil: one process (see replicas.go)
	storeDown atomic.Bool // the store did not answer the last health check
	busy      workingOn   // the requests this process works on (replicas.go)

	dmMu sync.Mutex
	dms  map[string]string // DM channel ID by user ID; DM IDs never change

	homeMu   sync.Mutex
	homeSeen map[string]bool // who opened the Home tab since start (home.go)
}

// New checks the options and builds a Workflow. It makes no call.
func New(opts Options) (*Workflow, error) {
	if opts.Slack == nil || opts.Resetter == nil || opts.Store == nil || opts.Logger == nil {
		return nil, errors.New("workflow: Slack, Resetter, Store and Logger are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	accounts, err := accountsOf(opts)
	if err != nil {
		return nil, err
	}
	listed := make(map[string][]config.User, len(opts.Config.Users))
	for _, u := range opts.Config.Users {
		listed[u.SlackUser] = append(listed[u.SlackUser], u)
	}
	return &Workflow{
		cfg: opts.Config, slack: opts.Slack, resetter: opts.Resetter, store: opts.Store, console: opts.ConsoleURL,
		log: opts.Logger, metrics: opts.Metrics, now: opts.Now, listed: listed, accounts: accounts,
		choice: choiceKey(opts.ChoiceKey), dms: map[string]string{}, replica: opts.Replica,
	}, nil
}

// Start records the bot's identity and returns the work a previous run
// left, for the caller to run in its pool.
func (w *Workflow) Start(ctx context.Context, self Identity) []func(context.Context) {
	w.self = self
	return w.resume(ctx)
}

// Log keys, so every line names things the same way.
const (
	keyRequest = "request_id"
	keyUser    = "slack_user"
	keyTeam    = "team_id"
	keyIAMUser = "iam_user"
	keyOutcome = "outcome"
	keyActor   = "actor"
	keyError   = "error"
	keyAccount = "account"
)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// countIn records an outcome of a request in an account.
func (w *Workflow) countIn(account string, o Outcome) { w.metrics.ResetIn(account, string(o)) }

// isAccount reports whether name is a configured AWS account's name.
// (With no accounts configured, no word is.)
func (w *Workflow) isAccount(name string) bool {
	_, ok := w.accounts[name]
	return ok && name != ""
}
