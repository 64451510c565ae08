// Package fakeslack is an in-process fake of the parts of Slack this bot talks to: the Web API
// methods it calls, Socket Mode, and response URLs.
//
// It speaks the real wire protocols on 127.0.0.1, so the real slack-go clients run unmodified
// against it: point them at it with slack.OptionAPIURL(server.APIURL()). Tests and the demo
// command play Slack's side (slash commands, button clicks, disconnects, faults, rate limits)
// and inspect what the bot did (Web API calls, messages as they now stand, Socket Mode acks).
//
// Behaviour follows Slack's documented answers where the bot can observe it: which token each
// method takes, error codes, Block Kit validation, 429 with Retry-After, the Socket Mode
// envelope format, and websocket pings. Everything is held in memory behind one mutex; every
// Wait method returns the first past or future match and is woken by a broadcast, not by polling.
package fakeslack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Identities of the fake workspace and of the bot installed in it.
const (
	TeamID    = "T0TEAM0001"
	BotUserID = "U0BOT00001"
	BotID     = "B0BOT00001"
	AppID     = "A0APP00001"
	AppToken  = "xapp-1-A0APP00001-1111-fakeapptoken0123456789abcdef"
	BotToken  = "xoxb-1111-2222-fakebottoken0123456789abcdef"
)

// Names the fake reports for the workspace, its enterprise and the bot.
const (
	TeamName       = "Fake Slack"
	TeamDomain     = "fakeslack"
	EnterpriseName = "Fake Enterprise"
	BotName        = "aws-reset-bot"
	// VerificationToken is the deprecated verification token Slack still puts in the "token"
	// field of slash-command and interactive payloads.
	VerificationToken = "fakeverificationtoken0001"
)

// ErrClosed is returned by operations on a Server that has been closed.
var ErrClosed = errors.New("fakeslack: server closed")

// Options configures a Server. The zero value is a plain (non-Grid) workspace with no rate limits.
type Options struct {
	// TeamID is the workspace ID; default TeamID.
	TeamID string
	// EnterpriseID makes the workspace part of an Enterprise Grid org; "" = not Grid.
	EnterpriseID string
	// PingInterval is how often the server sends websocket PING frames on each Socket Mode
	// connection (and it sends one right after the hello). Default 2s. A negative value
	// disables pings, which exercises the client's ping timeout.
	PingInterval time.Duration
	// RateLimits gives, per Web API method, the calls allowed in any sliding minute. Beyond it
	// the method answers HTTP 429 with a Retry-After header (whole seconds, at least 1) and
	// {"ok":false,"error":"ratelimited"}. A method absent from the map is unlimited; a limit
	// of zero or less refuses every call. nil = no limits. See PublishedTiers.
	RateLimits map[string]int
	// Now is the clock for timestamps, rate-limit windows and response-URL expiry; default
	// time.Now. It is called with the Server's lock held, so it must not call the Server.
	Now func() time.Time
	// Logger receives the fake's own diagnostics (bad frames, write errors); default: discarded.
	Logger *slog.Logger
	// Spread hands each envelope to the next open Socket Mode connection in turn, as Slack
	// hands each one to any of an app's connections; false sends every envelope on the newest.
	Spread bool
	// RedeliverAfter, when positive, sends an envelope that is not acked within it again, on
	// another connection if there is one, with retry_attempt and retry_reason "timeout", up to
	// MaxRetries times. Interactive envelopes are never redelivered, as on Slack.
	RedeliverAfter time.Duration
}

// MaxRetries is how often an unacked envelope is redelivered (see Options.RedeliverAfter).
const MaxRetries = 3

// MaxConnections is how many Socket Mode connections an app may hold at once; one more is
// refused with a too_many_websockets disconnect.
const MaxConnections = 10

// Server is a fake Slack: a Web API, a Socket Mode websocket endpoint and response URLs, all
// on one loopback httptest server. Create it with New and release it with Close. All methods
// are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	srv  *httptest.Server

	closeOnce sync.Once
	wg        sync.WaitGroup // websocket goroutines

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change, to wake waiters
	closed  bool
	seq     int // for generated IDs

	users     map[string]User
	dmUsers   map[string]string // DM channel ID -> user ID
	openedDMs map[string]bool
	groups    map[string][]string
	channels  map[string]*channel

	calls     []Call
	faults    map[string][]Fault
	rateLimit map[string]int
	rateLog   map[string][]time.Time
	failOpens int

	messages []Message
	lastTS   int64 // microseconds of the last message timestamp handed out

	tickets   map[string]bool
	conns     []*wsConn // open Socket Mode connections, oldest first
	connCount int
	acks      []Ack
	acked     map[string]bool      // envelope IDs acked
	sentAt    map[string]time.Time // when each envelope was first handed to a connection (Send)
	next      int                  // round-robin position among conns (Options.Spread)
	sentOn    map[string]int       // envelope ID -> how many times it went out

	responseURLs map[string]*responseTarget

	triggers map[string]trigger // trigger IDs handed out in payloads (views.go)
	views    []View             // opened modals and published Home tabs, in order
}

// channel is a conversation registered with AddChannel.
type channel struct {
	id      string
	name    string
	members map[string]bool
}

// New starts a fake Slack on 127.0.0.1. The bot user (BotUserID) exists from the start.
func New(opts Options) *Server {
	if opts.TeamID == "" {
		opts.TeamID = TeamID
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:         opts,
		log:          logger,
		changed:      make(chan struct{}),
		users:        make(map[string]User),
		dmUsers:      make(map[string]string),
		openedDMs:    make(map[string]bool),
		groups:       make(map[string][]string),
		channels:     make(map[string]*channel),
		faults:       make(map[string][]Fault),
		rateLimit:    maps.Clone(opts.RateLimits),
		rateLog:      make(map[string][]time.Time),
		tickets:      make(map[string]bool),
		acked:        make(map[string]bool),
		sentAt:       make(map[string]time.Time),
		sentOn:       make(map[string]int),
		responseURLs: make(map[string]*responseTarget),
		triggers:     make(map[string]trigger),
	}
	if s.rateLimit == nil {
		s.rateLimit = make(map[string]int)
	}
	s.AddUser(User{ID: BotUserID, Name: BotName, RealName: "AWS Reset Bot", IsBot: true})

	mux := http.NewServeMux()
	mux.HandleFunc(apiPrefix, s.serveAPI)
	mux.HandleFunc("/link/", s.serveSocket)
	mux.HandleFunc("/commands/", s.serveResponseURL)
	mux.HandleFunc("/actions/", s.serveResponseURL)
	s.srv = httptest.NewUnstartedServer(mux)
	// Hijacked websocket connections and clients that vanish mid-request are routine here.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Start()
	return s
}

// Close closes every websocket connection (with a close frame) and the HTTP server, and waits
// for the fake's goroutines to end. It is idempotent. Waiters blocked on the Server return
// ErrClosed unless what they wait for has already happened.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := s.conns
		s.conns = nil
		s.notifyLocked()
		s.mu.Unlock()
		for _, c := range conns {
			c.shutdown(true)
		}
		s.wg.Wait()
		s.srv.Close()
	})
}

// APIURL is the Web API base URL, ending in "/", for slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.srv.URL + apiPrefix }

// URL is the server's base URL, e.g. "http://127.0.0.1:43211".
func (s *Server) URL() string { return s.srv.URL }

// now reads the configured clock.
func (s *Server) now() time.Time { return s.opts.Now() }

// notifyLocked wakes every waiter so that it re-checks its condition. Callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// await blocks until cond reports true, ctx ends, or the server is closed; what names the
// awaited thing in errors. cond runs without s.mu held (it takes the lock, or calls the
// Server's methods, as it needs), so callers' match functions may use the Server too. The
// change channel is read before cond runs, so a change made after cond looked is never missed.
func (s *Server) await(ctx context.Context, what string, cond func() bool) error {
	for {
		s.mu.Lock()
		closed, ch := s.closed, s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return fmt.Errorf("wait for %s: %w", what, ErrClosed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		}
	}
}

// User is a workspace member as users.info reports it.
type User struct {
	ID, TeamID, EnterpriseID, Name, RealName, TZ string
	// Email is reported in the profile when set.
	Email string
	// TZOffset is the offset from UTC in seconds. A user with neither TZ nor TZOffset gets
	// Slack's default zone, America/Los_Angeles (-28800).
	TZOffset int

	IsBot, IsRestricted, IsUltraRestricted, Deleted, IsAdmin, IsAppUser bool
}

// AddUser adds or replaces a user. A zero TeamID means the server's team; a zero EnterpriseID
// means the server's enterprise, if any.
func (s *Server) AddUser(u User) {
	if u.TeamID == "" {
		u.TeamID = s.opts.TeamID
	}
	if u.EnterpriseID == "" {
		u.EnterpriseID = s.opts.EnterpriseID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
	if dm := DMChannel(u.ID); dm != "" {
		s.dmUsers[dm] = u.ID
	}
	s.notifyLocked()
}

// AddUserGroup adds or replaces a user group (ID "S…") for usergroups.users.list.
func (s *Server) AddUserGroup(id string, userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string{}, userIDs...)
	s.notifyLocked()
}

// AddChannel adds or replaces a public ("C…") or private ("G…") channel with its members. The
// bot is a member when BotUserID is among them: that decides conversations.info's is_member,
// whether the bot may post there (not_in_channel otherwise) and whether a private channel is
// visible to it at all. Ephemeral messages need their recipient among the members.
// Direct-message channels need no registration: every user has one (see DMChannel).
func (s *Server) AddChannel(id string, members ...string) {
	s.AddNamedChannel(id, strings.ToLower(id), members...)
}

// AddNamedChannel is AddChannel with the channel's name (as in channel_name of payloads).
func (s *Server) AddNamedChannel(id, name string, members ...string) {
	ch := &channel{id: id, name: name, members: make(map[string]bool)}
	for _, m := range members {
		ch.members[m] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = ch
	s.notifyLocked()
}

// DMChannel is the stable ID of the direct-message channel between the bot and userID, as
// conversations.open returns it: "D" followed by the user ID without its first letter.
func DMChannel(userID string) string {
	if len(userID) < 2 {
		return ""
	}
	return "D" + userID[1:]
}

// DMChannel is the package function DMChannel, for callers holding a Server.
func (s *Server) DMChannel(userID string) string { return DMChannel(userID) }

// locked runs f with s.mu held and returns its result.
func locked[T any](s *Server, f func() T) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

// nextIDLocked returns a number unique within this server.
func (s *Server) nextIDLocked() int {
	s.seq++
	return s.seq
}

// Secrets returns what must never appear in logs, output or files: the
// app-level and bot tokens.
func Secrets() []string { return []string{AppToken, BotToken} }
