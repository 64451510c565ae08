package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// clock is the one clock of the fakes, the demo and the bot's log: each
// reading is later than the one before, so the calls and lines of both
// sides can be put in the order they happened.
type clock struct {
	mu   sync.Mutex
	last time.Time
}

// Now returns the time, strictly after every earlier reading.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := time.Now()
	if !t.After(c.last) {
		t = c.last.Add(time.Nanosecond)
	}
	c.last = t
	return t
}

// event is one line of the timeline, with its continuation lines.
type event struct {
	at   time.Time
	side string // "Slack → bot", "bot → Slack", "bot → IAM", "bot → STS" or "bot log"
	text string
	more []string
}

// timeline prints, at each show, everything that happened since the last
// one, on both sides, in time order.
type timeline struct {
	w     io.Writer
	world *world
	err   error // set when a password shown is not the one IAM set

	// What show has printed of each fake's records, used by show alone.
	slackSeen, acksSeen, iamSeen int

	mu        sync.Mutex
	pending   []event           // what the demo sent, and the bot's log lines
	envelopes map[string]string // envelope ID -> who it came from
	logged    chan struct{}     // closed and replaced at each log line
}

func newTimeline(w io.Writer, world *world) *timeline {
	return &timeline{w: w, world: world, envelopes: map[string]string{}, logged: make(chan struct{})}
}

func (t *timeline) step(title string) { fmt.Fprintf(t.w, "\n%s\n", title) }

// sent records an envelope the demo is about to send as Slack.
func (t *timeline) sent(text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, event{at: t.world.clock.Now(), side: "Slack → bot", text: text})
}

// envelope remembers whose action envelope id carries, to name its ack.
func (t *timeline) envelope(id, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.envelopes[id] = user
}

// logSink is where the bot's log goes: each line, as slog writes it in one
// Write, becomes an event at the time it was written.
func (t *timeline) logSink() io.Writer { return logWriter{t} }

type logWriter struct{ t *timeline }

func (l logWriter) Write(p []byte) (int, error) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	l.t.pending = append(l.t.pending, event{at: l.t.world.clock.Now(), side: "bot log", text: strings.TrimSpace(string(p))})
	close(l.t.logged)
	l.t.logged = make(chan struct{})
	return len(p), nil
}

// waitLog waits for a log line holding msg that has not been shown yet,
// so that a step's show includes the line its last call caused. The bot
// logs some outcomes just after its last call for them.
func (t *timeline) waitLog(ctx context.Context, msg string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		t.mu.Lock()
		logged := t.logged
		found := slices.ContainsFunc(t.pending, func(e event) bool { return e.side == "bot log" && strings.Contains(e.text, msg) })
		t.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-logged:
		case <-ctx.Done():
			return fmt.Errorf("demo: the bot did not log %q: %w", msg, ctx.Err())
		}
	}
}

// dropTime leaves the time out of the bot's log lines: the timeline's
// order says when.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// show prints what happened since the last show, in time order.
func (t *timeline) show() {
	t.mu.Lock()
	events := t.pending
	t.pending = nil
	envelopes := t.envelopes
	t.mu.Unlock()

	calls := t.world.slack.Calls("")
	for _, c := range calls[t.slackSeen:] {
		events = append(events, t.slackCall(c.At, c.Method, c.Params))
	}
	t.slackSeen = len(calls)
	acks := t.world.slack.Acks()
	for _, a := range acks[t.acksSeen:] {
		events = append(events, t.ack(a.At, envelopes[a.EnvelopeID], a.Payload))
	}
	t.acksSeen = len(acks)
	iamCalls := t.world.iam.Calls("")
	for _, c := range iamCalls[t.iamSeen:] {
		events = append(events, iamCall(c.At, c.Action, c.Params))
	}
	t.iamSeen = len(iamCalls)

	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	secrets := t.world.iam.Secrets()
	for _, e := range events {
		fmt.Fprintf(t.w, "   %-13s %s\n", e.side, maskAll(e.text, secrets))
		for _, m := range e.more {
			fmt.Fprintf(t.w, "   %-13s   %s\n", "", maskAll(m, secrets))
		}
	}
}

// iamCall describes one IAM or STS call: its action and parameters, the
// password masked.
func iamCall(at time.Time, action string, params url.Values) event {
	var args []string
	for _, k := range []string{"UserName", "Password", "PasswordResetRequired"} {
		if v := params.Get(k); v != "" {
			if k == "Password" {
				v = mask(v)
			}
			args = append(args, k+"="+v)
		}
	}
	side := "bot → IAM"
	if params.Get("Version") == "2011-06-15" { // STS's Query API version
		side = "bot → STS"
	}
	return event{at: at, side: side, text: strings.TrimSpace(action + " " + strings.Join(args, " "))}
}

// ack describes the bot's ack of an envelope from user.
func (t *timeline) ack(at time.Time, user string, payload json.RawMessage) event {
	var answer struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(payload, &answer)
	if answer.Text == "" {
		return event{at: at, side: "bot → Slack", text: "ack of " + t.name(user) + "'s click, at once (Slack shows nothing)"}
	}
	return event{at: at, side: "bot → Slack", text: fmt.Sprintf("ack of %s's command, at once, shown to %s only:", t.name(user), t.name(user)),
		more: t.lines(answer.Text)}
}

// slackCall describes one Web API call; a message in full, as its reader
// sees it.
func (t *timeline) slackCall(at time.Time, method string, p url.Values) event {
	e := event{at: at, side: "bot → Slack", text: method}
	switch method {
	case "users.info":
		e.text += " " + t.who(p.Get("user"))
	case "conversations.open":
		e.text += " with " + t.who(p.Get("users"))
	case "chat.postMessage", "chat.postEphemeral", "chat.update":
		e.text += " in " + t.where(p.Get("channel"))
		if u := p.Get("user"); u != "" {
			e.text += ", visible to " + t.who(u) + " only"
		}
		e.text += ":"
		e.more = t.message(p)
	}
	return e
}

// message renders a message's blocks (what Slack shows), or its text when
// it has none, and checks that a password shown is the one IAM set.
func (t *timeline) message(p url.Values) []string {
	blocks := parseBlocks(json.RawMessage(p.Get("blocks")))
	if len(blocks) == 0 {
		return t.lines(p.Get("text"))
	}
	var out []string
	for _, b := range blocks {
		switch b.Type {
		case "section":
			t.checkPassword(b.Text.Text, p.Get("user"))
			out = append(out, t.lines(b.Text.Text)...)
		case "context":
			for _, e := range b.Elements {
				out = append(out, t.lines(e.label())...)
			}
		case "actions":
			var buttons []string
			for _, e := range b.Elements {
				if e.Type == "button" {
					buttons = append(buttons, "["+e.label()+"]")
				}
			}
			out = append(out, "buttons: "+strings.Join(buttons, " "))
		}
	}
	return out
}

var passwordSpan = regexp.MustCompile("\n\n`([^`]+)`\n\n")

// checkPassword compares a password shown to user with the one IAM holds
// for their IAM user.
func (t *timeline) checkPassword(text, user string) {
	m := passwordSpan.FindStringSubmatch(text)
	if m == nil {
		return
	}
	iamUser := ""
	for _, u := range t.world.cfg.Users {
		if u.SlackUser == user {
			iamUser = u.IAMUser
		}
	}
	if profile, ok := t.world.iam.LoginProfile(iamUser); !ok || profile.Password != m[1] {
		t.err = errMismatch
	}
}

var (
	slackDate    = regexp.MustCompile(`<!date\^[^|>]*\|([^>]*)>`)
	slackMention = regexp.MustCompile(`<@([A-Z0-9]+)>`)
	slackLink    = regexp.MustCompile(`<(https?://[^|>]+)\|([^>]*)>`)
)

// lines turns Slack mrkdwn into the lines a reader sees: dates as their
// fallback text, mentions as @name, links as their URL.
func (t *timeline) lines(s string) []string {
	s = slackDate.ReplaceAllString(s, "$1")
	s = slackMention.ReplaceAllStringFunc(s, func(m string) string { return "@" + t.name(slackMention.FindStringSubmatch(m)[1]) })
	s = slackLink.ReplaceAllString(s, "$1")
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (t *timeline) name(id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

// who names a person: "alice (U0ALICE001)".
func (t *timeline) who(id string) string {
	if n, ok := names[id]; ok {
		return n + " (" + id + ")"
	}
	return id
}

// where names a channel: #approvals, or whose DM with the bot it is.
func (t *timeline) where(channel string) string {
	for _, id := range []string{alice, bob, admin} {
		if channel == t.world.slack.DMChannel(id) {
			return names[id] + "'s DM with the bot"
		}
	}
	return t.name(channel)
}

func mask(s string) string { return strings.Repeat("•", len([]rune(s))) }

// maskAll masks every password IAM was sent wherever it appears, the
// bot's log included: the demo must never print one.
func maskAll(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, mask(sec))
		}
	}
	return s
}
