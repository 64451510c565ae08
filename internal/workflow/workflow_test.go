package workflow

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// Every outcome is a metric label and an audit word, and a person can
// read what it means.
func TestOutcomesHaveLabelsAndWords(t *testing.T) {
	label := regexp.MustCompile(`^[a-z][a-z_]{1,40}$`)
	seen := map[Outcome]bool{}
	for _, o := range Outcomes() {
		if seen[o] {
			t.Errorf("outcome %q listed twice", o)
		}
		seen[o] = true
		if !label.MatchString(string(o)) {
			t.Errorf("outcome %q is not a metric label", o)
		}
		if w := outcomeWords[o]; len(w) < 20 || !strings.HasSuffix(w, ".") {
			t.Errorf("outcomeWords[%q] = %q; want a sentence a person reads", o, w)
		}
	}
	for o := range outcomeWords {
		if !seen[o] {
			t.Errorf("outcomeWords has %q, which is not in outcomes", o)
		}
	}
}

// A failed reset's owner reads whether their password may have changed:
// it may when IAM's answer to the reset was lost (the call timed out, or
// the connection dropped after the retries), never when IAM said no or
// only a look-up failed.
func TestResetFailureWords(t *testing.T) {
	const maybe, unchanged = "may have changed", "nothing was changed"
	lost := errors.New("request send failed: EOF")
	tests := []struct {
		name    string
		err     error // as the Resetter returns it
		want    Outcome
		words   []string
		notWant []string
	}{
		{"answer lost", fmt.Errorf("update login profile for alice: %w", errors.Join(reset.ErrNoAnswer, lost)),
			OutcomeNoAnswer, []string{maybe, "run the command again"}, []string{unchanged, "not reset"}},
		{"reset timed out", fmt.Errorf("update login profile for alice: %w", errors.Join(reset.ErrNoAnswer, context.DeadlineExceeded)),
			OutcomeNoAnswer, []string{maybe, "run the command again"}, []string{unchanged, "not reset"}},
		{"policy read timed out", fmt.Errorf("get account password policy: %w", context.DeadlineExceeded),
			OutcomeTimeout, []string{unchanged}, []string{maybe}},
		{"access denied", fmt.Errorf("update login profile for alice: %w", reset.ErrAccessDenied),
			OutcomeAccessDenied, nil, []string{maybe}},
		{"no such entity", fmt.Errorf("update login profile for alice: %w", reset.ErrNoLoginProfile),
			OutcomeNoLoginProfile, []string{unchanged}, []string{maybe}},
		{"policy violation", fmt.Errorf("update login profile for alice: %w", reset.ErrPolicyViolation),
			OutcomePolicy, nil, []string{maybe}},
		{"account unreachable", errUnreachable, OutcomeUnreachable, []string{unchanged}, []string{maybe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, nil)
			ft.iam.err = tt.err
			id := ft.command(alice, "")
			if got := ft.request(id); got.State != request.Failed || got.Outcome != string(tt.want) {
				t.Errorf("request %s %s; want failed %s", got.State, got.Outcome, tt.want)
			}
			msg := strings.ToLower(ft.one("post", dmOf(alice), "request "+id).body())
			for _, w := range tt.words {
				if !strings.Contains(msg, w) {
					t.Errorf("words %q lack %q", msg, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("words %q hold %q", msg, w)
				}
			}
		})
	}
}

// Who may ask, decided against the in-memory Slack: the same refusal for
// everyone who may not, and nothing touched in IAM.
func TestCommandWhoMayAsk(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		person func(*Person)
		cfg    func(*config.Config)
		want   string // in the ephemeral answer
		resets int
	}{
		{"listed", alice, nil, nil, "Your new temporary AWS console password", 1},
		{"not listed", stranger, nil, nil, refusedWords, 0},
		{"guest", alice, func(p *Person) { p.Guest = true }, nil, refusedWords, 0},
		{"deactivated", alice, func(p *Person) { p.Deleted = true }, nil, refusedWords, 0},
		{"bot", alice, func(p *Person) { p.Bot = true }, nil, refusedWords, 0},
		{"other team", alice, func(p *Person) { p.TeamID = "T0OTHER001" }, nil, refusedWords, 0},
		{"protected by name", alice, nil, func(c *config.Config) { c.Reset.Protected = []string{"ALICE"} }, "protected", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, tt.cfg)
			if tt.person != nil {
				p := ft.slack.people[tt.user]
				tt.person(&p)
				ft.slack.people[tt.user] = p
			}
			ft.command(tt.user, "")
			ft.one("ephemeral", dmOf(tt.user), tt.want)
			if n := ft.iam.resetCount(); n != tt.resets {
				t.Errorf("resets = %d; want %d", n, tt.resets)
			}
		})
	}
}

// The password goes only to its owner, in an ephemeral message in the
// owner's DM; the lasting note never holds it.
func TestPasswordOnlyInTheOwnersEphemeral(t *testing.T) {
	ft := newFlowTest(t, nil)
	ft.command(alice, "")
	if len(ft.iam.passwords) != 1 {
		t.Fatalf("passwords set = %d; want 1", len(ft.iam.passwords))
	}
	pw := ft.iam.passwords[0]
	for _, s := range ft.slack.sent {
		holds := strings.Contains(s.body(), pw)
		want := s.Method == "ephemeral" && s.Channel == dmOf(alice) && s.User == alice
		if holds != want {
			t.Errorf("%s to %s/%s holds the password = %v; want %v", s.Method, s.Channel, s.User, holds, want)
		}
		if holds && strings.Contains(s.Msg.Text, pw) {
			t.Errorf("the password is in the notification text")
		}
	}
	ft.one("post", dmOf(alice), "If this wasn't you")
}

// What happens on a reveal click: only the owner, only in the owner's DM,
// only while the offer stands.
func TestRevealClick(t *testing.T) {
	tests := []struct {
		name    string
		clicker string
		channel string // "" for the offer's own
		advance bool   // past the offer's expiry
		resets  int
		want    string // in the answer to the clicker
	}{
		{"owner in the DM", alice, "", false, 1, "Your new temporary AWS console password"},
		{"someone else", carol, "", false, 0, "This button is for someone else"},
		{"owner elsewhere", alice, "C0ELSEWHERE", false, 0, "out of date"},
		{"after the offer expired", alice, "", true, 0, "already expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			ft.command(alice, "")
			ft.click(admin, ft.one("post", channel, "asks to reset"), actionApprove)
			offer := ft.one("post", dmOf(alice), "Show my new password")
			if tt.channel != "" {
				offer.Channel = tt.channel
			}
			if tt.advance {
				ft.now = ft.now.Add(31 * 60e9)
			}
			ft.click(tt.clicker, offer, actionReveal)
			if n := ft.iam.resetCount(); n != tt.resets {
				t.Errorf("resets = %d; want %d", n, tt.resets)
			}
			if got := ft.slack.find("ephemeral", "", tt.want); len(got) == 0 {
				t.Errorf("no answer containing %q:\n%s", tt.want, ft.slack.dump())
			}
		})
	}
}

// Who may decide: an approver, directly or through a group, never the
// requester, never in another channel.
func TestDecisionClick(t *testing.T) {
	tests := []struct {
		name    string
		clicker string
		channel string
		action  string
		want    request.State
	}{
		{"approver approves", admin, "", actionApprove, request.Approved},
		{"group member denies", admin2, "", actionDeny, request.Denied},
		{"requester approves own", alice, "", actionApprove, request.Pending},
		{"not an approver", carol, "", actionApprove, request.Pending},
		{"another channel", admin, "C0ELSEWHERE", actionApprove, request.Pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, withApprovals)
			id := ft.command(alice, "")
			m := ft.one("post", channel, "asks to reset")
			if tt.channel != "" {
				m.Channel = tt.channel
			}
			ft.click(tt.clicker, m, tt.action)
			req, err := ft.store.Request(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if req.State != tt.want {
				t.Errorf("state = %s; want %s", req.State, tt.want)
			}
			if n := ft.iam.resetCount(); n != 0 {
				t.Errorf("resets = %d; want 0 (the owner's click resets)", n)
			}
		})
	}
}
