package fakeslack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
)

// This file holds the non-chat Web API methods. Handlers run with s.mu held.

func (s *Server) teamURL() string { return "https://" + TeamDomain + ".slack.com/" }

// authTest answers for the bot token with the bot's identity and for the app-level token with
// the app's (no user).
func (s *Server) authTest(req apiRequest) apiResult {
	out := map[string]any{
		"url":                   s.teamURL(),
		"team":                  TeamName,
		"team_id":               s.opts.TeamID,
		"is_enterprise_install": false,
	}
	if s.opts.EnterpriseID != "" {
		out["enterprise_id"] = s.opts.EnterpriseID
	}
	if classifyToken(req.token) == tokenApp {
		out["app_id"] = AppID
		return okResult(out)
	}
	out["user"] = BotName
	out["user_id"] = BotUserID
	out["bot_id"] = BotID
	return okResult(out)
}

// appsConnectionsOpen issues a one-use ticket for the websocket endpoint.
func (s *Server) appsConnectionsOpen(apiRequest) apiResult {
	if s.failOpens > 0 {
		s.failOpens--
		return errResult("internal_error")
	}
	ticket := randomHex(16)
	s.tickets[ticket] = true
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + AppID
	return okResult(map[string]any{"url": wsURL})
}

func (s *Server) usersInfo(req apiRequest) apiResult {
	u, ok := s.users[req.params.Get("user")]
	if !ok {
		return errResult("user_not_found")
	}
	return okResult(map[string]any{"user": s.userJSON(u, req.params.Get("include_locale") == "true")})
}

// userJSON renders a user object as users.info does. Deleted users, as on Slack, carry no
// time zone and no role flags.
func (s *Server) userJSON(u User, includeLocale bool) map[string]any {
	profile := map[string]any{
		"real_name":               u.RealName,
		"real_name_normalized":    u.RealName,
		"display_name":            u.Name,
		"display_name_normalized": u.Name,
		"avatar_hash":             fmt.Sprintf("g%011x", hashString(u.ID)>>20),
		"status_text":             "",
		"status_emoji":            "",
		"team":                    u.TeamID,
	}
	for _, size := range []int{24, 32, 48, 72, 192, 512} {
		profile[fmt.Sprintf("image_%d", size)] = fmt.Sprintf("https://avatars.slack-edge.com/fake/%s_%d.png", u.ID, size)
	}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	if u.ID == BotUserID {
		profile["bot_id"] = BotID
		profile["api_app_id"] = AppID
		profile["always_active"] = true
	}
	out := map[string]any{
		"id":          u.ID,
		"team_id":     u.TeamID,
		"name":        u.Name,
		"deleted":     u.Deleted,
		"color":       "9f69e7",
		"real_name":   u.RealName,
		"profile":     profile,
		"is_bot":      u.IsBot,
		"is_app_user": u.IsAppUser,
		"updated":     s.now().Unix(),
	}
	if !u.Deleted {
		tz, offset := u.TZ, u.TZOffset
		if tz == "" && offset == 0 {
			tz, offset = "America/Los_Angeles", -28800
		}
		out["tz"] = tz
		out["tz_label"] = tz
		out["tz_offset"] = offset
		out["is_admin"] = u.IsAdmin
		out["is_owner"] = false
		out["is_primary_owner"] = false
		out["is_restricted"] = u.IsRestricted
		out["is_ultra_restricted"] = u.IsUltraRestricted
		out["is_email_confirmed"] = !u.IsBot
		out["who_can_share_contact_card"] = "EVERYONE"
	}
	if includeLocale {
		out["locale"] = "en-US"
	}
	if u.EnterpriseID != "" {
		out["enterprise_user"] = map[string]any{
			"id":               u.ID,
			"enterprise_id":    u.EnterpriseID,
			"enterprise_name":  EnterpriseName,
			"is_admin":         u.IsAdmin,
			"is_owner":         false,
			"is_primary_owner": false,
			"teams":            []string{u.TeamID},
		}
	}
	return out
}

// conversationsOpen opens (or resumes) the bot's DM with one user. Multi-person DMs are not
// supported by the fake and answer method_not_supported_for_channel_type.
func (s *Server) conversationsOpen(req apiRequest) apiResult {
	var dm string
	switch users, chID := req.params.Get("users"), req.params.Get("channel"); {
	case users != "":
		ids := strings.Split(users, ",")
		if len(ids) > 1 {
			return errResult("method_not_supported_for_channel_type")
		}
		u, ok := s.users[strings.TrimSpace(ids[0])]
		if !ok {
			return errResult("user_not_found")
		}
		if u.Deleted {
			return errResult("user_disabled")
		}
		dm = DMChannel(u.ID)
	case chID != "":
		if _, ok := s.dmUsers[chID]; !ok {
			return errResult("channel_not_found")
		}
		dm = chID
	default:
		return errResult("users_list_not_supplied")
	}
	already := s.openedDMs[dm]
	s.openedDMs[dm] = true
	ch := map[string]any{"id": dm}
	if req.params.Get("return_im") == "true" {
		ch = s.imJSON(dm)
	}
	out := map[string]any{"channel": ch}
	if already {
		out["no_op"] = true
		out["already_open"] = true
	}
	return okResult(out)
}

// imJSON renders a DM channel object.
func (s *Server) imJSON(dm string) map[string]any {
	userID := s.dmUsers[dm]
	return map[string]any{
		"id":                   dm,
		"created":              s.now().Unix(),
		"is_im":                true,
		"is_org_shared":        false,
		"context_team_id":      s.opts.TeamID,
		"user":                 userID,
		"is_user_deleted":      s.users[userID].Deleted,
		"last_read":            "0000000000.000000",
		"is_open":              true,
		"priority":             0,
		"unread_count":         0,
		"unread_count_display": 0,
	}
}

// conversationsInfo describes a DM or a registered channel. A private channel the bot is not
// in is invisible to it: channel_not_found, as on Slack.
func (s *Server) conversationsInfo(req apiRequest) apiResult {
	id := req.params.Get("channel")
	if _, ok := s.dmUsers[id]; ok {
		return okResult(map[string]any{"channel": s.imJSON(id)})
	}
	ch, ok := s.channels[id]
	if !ok {
		return errResult("channel_not_found")
	}
	private := strings.HasPrefix(id, "G")
	if private && !ch.members[BotUserID] {
		return errResult("channel_not_found")
	}
	out := map[string]any{
		"id":              ch.id,
		"name":            ch.name,
		"name_normalized": ch.name,
		"is_channel":      !private,
		"is_group":        private,
		"is_im":           false,
		"is_mpim":         false,
		"is_private":      private,
		"is_archived":     false,
		"is_general":      false,
		"is_shared":       false,
		"is_org_shared":   false,
		"is_ext_shared":   false,
		"is_member":       ch.members[BotUserID],
		"created":         s.now().Unix(),
		"creator":         "",
		"unlinked":        0,
		"context_team_id": s.opts.TeamID,
		"topic":           map[string]any{"value": "", "creator": "", "last_set": 0},
		"purpose":         map[string]any{"value": "", "creator": "", "last_set": 0},
	}
	if req.params.Get("include_num_members") == "true" {
		out["num_members"] = len(ch.members)
	}
	return okResult(map[string]any{"channel": out})
}

func (s *Server) usergroupsUsersList(req apiRequest) apiResult {
	members, ok := s.groups[req.params.Get("usergroup")]
	if !ok {
		return errResult("no_such_subteam")
	}
	return okResult(map[string]any{"users": append([]string{}, members...)})
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// newUUID returns a random (version 4) UUID, the shape of Slack's envelope IDs.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// hashString is FNV-1a, for stable fake identifiers derived from IDs.
func hashString(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}
