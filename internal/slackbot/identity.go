package slackbot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// Why a person is refused, for logs and the audit trail only: everyone
// refused reads the same words, so a refusal says nothing about whether an
// IAM user exists.
const (
	refusedForeignTeam = "foreign_team"
	refusedBadID       = "bad_user_id"
	refusedLookup      = "user_lookup_failed"
	refusedBot         = "bot"
	refusedGuest       = "guest"
	refusedDeactivated = "deactivated"
	refusedNotListed   = "not_listed"
	refusedProtected   = "protected"
)

// checkPerson decides whether the Slack user may use the bot at all: from
// the bot's own workspace and org, a full member, not a bot, not
// deactivated. It answers "" when they may, else the reason. Any error
// refuses: the bot fails closed.
func (b *Bot) checkPerson(ctx context.Context, teamID, enterpriseID, userID string) string {
	if !config.IsSlackUserID(userID) {
		return refusedBadID
	}
	if teamID != b.self.TeamID || enterpriseID != b.self.EnterpriseID {
		return refusedForeignTeam
	}
	u, err := b.api.GetUserInfoContext(ctx, userID)
	if err != nil || u == nil || u.ID != userID {
		return refusedLookup
	}
	switch {
	case u.Deleted:
		return refusedDeactivated
	case u.IsBot || u.IsAppUser || u.ID == "USLACKBOT":
		return refusedBot
	case u.IsRestricted || u.IsUltraRestricted:
		return refusedGuest
	case u.TeamID != b.self.TeamID && (b.self.EnterpriseID == "" || u.Enterprise.EnterpriseID != b.self.EnterpriseID):
		return refusedForeignTeam
	}
	return ""
}

// isProtected reports whether the IAM user is one the bot must never touch
// by name (case-insensitively, as IAM compares names). Protected paths need
// the user's path from IAM: see isProtectedPath.
func (b *Bot) isProtected(iamUser string) bool {
	for _, p := range b.cfg.Reset.Protected {
		if !strings.HasPrefix(p, "/") && strings.EqualFold(p, iamUser) {
			return true
		}
	}
	return false
}

// isProtectedPath reports whether an IAM user at path is under one of the
// protected paths.
func (b *Bot) isProtectedPath(path string) bool {
	for _, p := range b.cfg.Reset.Protected {
		if strings.HasPrefix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// isApprover reports whether the user is an approver, directly or through
// a user group. An error means no.
func (b *Bot) isApprover(ctx context.Context, userID string) (bool, error) {
	if !b.cfg.Approval.Enabled() {
		return false, nil
	}
	for _, a := range b.cfg.Approval.Approvers {
		if a == userID {
			return true, nil
		}
	}
	for _, a := range b.cfg.Approval.Approvers {
		if !config.IsUserGroupID(a) {
			continue
		}
		members, err := b.groups.members(ctx, a, b.now(), func(ctx context.Context, id string) ([]string, error) {
			return b.api.GetUserGroupMembersContext(ctx, id)
		})
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
