package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// checkPerson decides whether the Slack user may use the bot at all: from
// the bot's own workspace and org, a full member, not a bot, not
// deactivated. It answers "" when they may, else the reason. Any error
// refuses: the bot fails closed.
func (w *Workflow) checkPerson(ctx context.Context, teamID, enterpriseID, userID string) Outcome {
	if !config.IsSlackUserID(userID) {
		return RefusedBadID
	}
	if teamID != w.self.TeamID || enterpriseID != w.self.EnterpriseID {
		return RefusedForeignTeam
	}
	u, err := w.slack.UserInfo(ctx, userID)
	if err != nil || u.ID != userID {
		return RefusedLookup
	}
	switch {
	case u.Deleted:
		return RefusedDeactivated
	case u.Bot:
		return RefusedBot
	case u.Guest:
		return RefusedGuest
	case u.TeamID != w.self.TeamID && (w.self.EnterpriseID == "" || u.EnterpriseID != w.self.EnterpriseID):
		return RefusedForeignTeam
	}
	return ""
}

// isProtected reports whether the IAM user is one the bot must never touch
// by name (case-insensitively, as IAM compares names). Protected paths need
// the user's path from IAM: see isProtectedPath.
func (w *Workflow) isProtected(iamUser string) bool {
	for _, p := range w.cfg.Reset.Protected {
		if !strings.HasPrefix(p, "/") && strings.EqualFold(p, iamUser) {
			return true
		}
	}
	return false
}

// isProtectedPath reports whether an IAM user at path is under one of the
// protected paths.
func (w *Workflow) isProtectedPath(path string) bool {
	for _, p := range w.cfg.Reset.Protected {
		if strings.HasPrefix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// isApprover reports whether the user is an approver, directly or through
// a user group. An error means no.
func (w *Workflow) isApprover(ctx context.Context, userID string) (bool, error) {
	if !w.cfg.Approval.Enabled() {
		return false, nil
	}
	for _, a := range w.cfg.Approval.Approvers {
		if a == userID {
			return true, nil
		}
	}
	for _, a := range w.cfg.Approval.Approvers {
		if !config.IsUserGroupID(a) {
			continue
		}
		members, err := w.groups.members(ctx, a, w.now(), w.slack.GroupMembers)
		if err != nil {
			return false, fmt.Errorf("list members of user group %s: %w", a, err)
		}
		if slices.Contains(members, userID) {
			return true, nil
		}
	}
	return false, nil
}

// groupCache remembers user-group members for a short while, so a burst
// of clicks does not list the same group each time.
type groupCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]groupEntry
}

type groupEntry struct {
	members []string
	at      time.Time
}

func (c *groupCache) members(ctx context.Context, id string, now time.Time, fetch func(context.Context, string) ([]string, error)) ([]string, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.members, nil
	}
	members, err := fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]groupEntry{}
	}
	c.entries[id] = groupEntry{members: members, at: now}
	c.mu.Unlock()
	return members, nil
}
