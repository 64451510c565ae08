package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// This file holds modals and the Home tab: views.open, views.publish, and
// the view_submission and app_home_opened envelopes.

// triggerLifetime is how long a trigger ID may open a modal, as on Slack.
const triggerLifetime = 3 * time.Second

// trigger is a trigger ID handed out in a slash command or click payload.
type trigger struct {
	issued time.Time
	used   bool
}

// View is a modal opened with views.open or a Home tab set with
// views.publish, as the fake stores it.
type View struct {
	ID   string
	Type string // "modal" or "home"
	// UserID is the Home tab's owner; TriggerID the modal's trigger.
	UserID, TriggerID           string
	CallbackID, PrivateMetadata string
	Title                       string
	// Blocks are the view's blocks as stored (with generated block IDs).
	Blocks json.RawMessage
	At     time.Time
}

// Views returns every view opened or published, oldest first.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// WaitView returns the first view, in order, for which match reports true, waiting for one.
func (s *Server) WaitView(ctx context.Context, match func(View) bool) (View, error) {
	var found View
	err := s.await(ctx, "view", func() bool {
		for _, v := range s.Views() {
			if match(v) {
				found = v
				return true
			}
		}
		return false
	})
	return found, err
}

// Home returns the Home tab last published for userID.
func (s *Server) Home(userID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.views) - 1; i >= 0; i-- {
		if v := s.views[i]; v.Type == "home" && v.UserID == userID {
			return v, true
		}
	}
	return View{}, false
}

// viewArg is the "view" argument of views.open and views.publish.
type viewArg struct {
	Type            string          `json:"type"`
	Title           *textArg        `json:"title"`
	Submit          *textArg        `json:"submit"`
	Close           *textArg        `json:"close"`
	Blocks          json.RawMessage `json:"blocks"`
	PrivateMetadata string          `json:"private_metadata"`
	CallbackID      string          `json:"callback_id"`
}

type textArg struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// parseViewLocked reads and checks a view argument as Slack does: its type, a modal's title
// (plain text, at most 24 characters) and submit button when it has inputs, at most 3000
// characters of private_metadata, and its blocks.
func (s *Server) parseViewLocked(raw, wantType string) (viewArg, json.RawMessage, apiResult, bool) {
	var v viewArg
	if raw == "" {
		return v, nil, errResult("invalid_arguments"), false
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return v, nil, errResult("invalid_arguments"), false
	}
	if v.Type != wantType {
		return v, nil, errResult("invalid_arguments"), false
	}
	if len(v.PrivateMetadata) > 3000 || len(v.CallbackID) > 255 {
		return v, nil, errResult("invalid_arguments"), false
	}
	if wantType == "modal" && (v.Title == nil || v.Title.Type != "plain_text" || v.Title.Text == "" || len([]rune(v.Title.Text)) > 24) {
		return v, nil, errResult("invalid_arguments"), false
	}
	// Slack takes up to 100 blocks in a view; the fake holds views to the
	// messages' 50, which the bot stays under.
	blocks, code, problems := validateBlocks(string(v.Blocks), s.nextIDLocked)
	if code != "" {
		res := errResult(code)
		if len(problems) > 0 {
			res.body["response_metadata"] = map[string]any{"messages": problems}
		}
		return v, nil, res, false
	}
	if wantType == "modal" && v.Submit == nil && hasInput(blocks) {
		return v, nil, errResult("invalid_arguments"), false
	}
	return v, blocks, apiResult{}, true
}

func hasInput(blocks json.RawMessage) bool {
	var list []struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(blocks, &list)
	for _, b := range list {
		if b.Type == "input" {
			return true
		}
	}
	return false
}

// viewsOpen opens a modal on a trigger ID the fake handed out, at most triggerLifetime ago
// and not used before (invalid_trigger_id, expired_trigger_id).
func (s *Server) viewsOpen(req apiRequest) apiResult {
	id := req.params.Get("trigger_id")
	t, ok := s.triggers[id]
	switch {
	case id == "" || !ok:
		return errResult("invalid_trigger_id")
	case t.used || s.now().Sub(t.issued) > triggerLifetime:
		return errResult("expired_trigger_id")
	}
	v, blocks, res, ok := s.parseViewLocked(req.params.Get("view"), "modal")
	if !ok {
		return res
	}
	s.triggers[id] = trigger{issued: t.issued, used: true}
	stored := View{ID: fmt.Sprintf("V%08d", s.nextIDLocked()), Type: "modal", TriggerID: id, CallbackID: v.CallbackID,
		PrivateMetadata: v.PrivateMetadata, Title: v.Title.Text, Blocks: blocks, At: s.now()}
	s.views = append(s.views, stored)
	return okResult(map[string]any{"view": s.viewJSON(stored)})
}

// viewsPublish sets a known user's Home tab.
func (s *Server) viewsPublish(req apiRequest) apiResult {
	user := req.params.Get("user_id")
	if _, ok := s.users[user]; !ok || user == "" {
		return errResult("user_not_found")
	}
	v, blocks, res, ok := s.parseViewLocked(req.params.Get("view"), "home")
	if !ok {
		return res
	}
	stored := View{ID: fmt.Sprintf("V%08d", s.nextIDLocked()), Type: "home", UserID: user, CallbackID: v.CallbackID,
		PrivateMetadata: v.PrivateMetadata, Blocks: blocks, At: s.now()}
	s.views = append(s.views, stored)
	return okResult(map[string]any{"view": s.viewJSON(stored)})
}

// viewJSON is a view as Slack returns it and puts it in payloads.
func (s *Server) viewJSON(v View) map[string]any {
	blocks := v.Blocks
	if blocks == nil {
		blocks = json.RawMessage("[]")
	}
	out := map[string]any{
		"id": v.ID, "team_id": s.opts.TeamID, "type": v.Type, "blocks": blocks,
		"private_metadata": v.PrivateMetadata, "callback_id": v.CallbackID,
		"state": map[string]any{"values": map[string]any{}}, "hash": fmt.Sprintf("%d.%s", v.At.Unix(), v.ID),
		"clear_on_close": false, "notify_on_close": false, "root_view_id": v.ID, "previous_view_id": nil,
		"app_id": AppID, "external_id": "", "app_installed_team_id": s.opts.TeamID, "bot_id": BotID,
	}
	if v.Type == "modal" {
		out["title"] = map[string]any{"type": "plain_text", "text": v.Title, "emoji": true}
	}
	return out
}

// ViewSubmission describes a user submitting a modal the bot opened: Values are the inputs'
// values by block ID, then action ID (sent as plain_text_input values).
type ViewSubmission struct {
	UserID, ViewID string
	Values         map[string]map[string]string
}

// ViewSubmission sends an interactive envelope with a view_submission payload as Slack sends
// it: type, team{id,domain[,enterprise_id,enterprise_name]}, user{id,username,name,team_id},
// api_app_id, token, trigger_id, view (the stored modal, with state.values filled in),
// response_urls [], is_enterprise_install and enterprise. It returns the envelope ID; the
// ack's payload says whether the modal closes (none) or shows errors.
func (s *Server) ViewSubmission(ctx context.Context, v ViewSubmission) (string, error) {
	s.mu.Lock()
	var stored *View
	for i := range s.views {
		if s.views[i].ID == v.ViewID && s.views[i].Type == "modal" {
			stored = &s.views[i]
		}
	}
	if stored == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("no modal %s was opened", v.ViewID)
	}
	values := map[string]any{}
	for block, actions := range v.Values {
		m := map[string]any{}
		for action, value := range actions {
			m[action] = map[string]any{"type": "plain_text_input", "value": value}
		}
		values[block] = m
	}
	view := s.viewJSON(*stored)
	view["state"] = map[string]any{"values": values}
	user := s.users[v.UserID]
	team := map[string]any{"id": s.opts.TeamID, "domain": TeamDomain}
	userTeam := user.TeamID
	if userTeam == "" {
		userTeam = s.opts.TeamID
	}
	payload := map[string]any{
		"type":                  "view_submission",
		"team":                  team,
		"user":                  map[string]any{"id": v.UserID, "username": user.Name, "name": user.Name, "team_id": userTeam},
		"api_app_id":            AppID,
		"token":                 VerificationToken,
		"trigger_id":            s.triggerIDLocked(),
		"view":                  view,
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	if s.opts.EnterpriseID != "" {
		payload["enterprise"] = map[string]any{"id": s.opts.EnterpriseID, "name": EnterpriseName}
		team["enterprise_id"] = s.opts.EnterpriseID
		team["enterprise_name"] = EnterpriseName
	}
	s.mu.Unlock()
	id := newUUID()
	return id, s.Send(ctx, Envelope{Type: "interactive", EnvelopeID: id, Payload: payload})
}

// AppHomeOpened sends an events_api envelope with an app_home_opened event for userID, as
// Slack sends it when someone opens the app's Home tab: the event_callback wrapper (token,
// team_id, api_app_id, event, type, event_id, event_time, authorizations,
// is_ext_shared_channel, event_context) around {type, user, channel (the user's DM with the
// bot), tab "home", view (the Home tab last published, if any), event_ts}. It returns the
// envelope ID.
func (s *Server) AppHomeOpened(ctx context.Context, userID string) (string, error) {
	s.mu.Lock()
	now := s.now()
	event := map[string]any{
		"type": "app_home_opened", "user": userID, "channel": DMChannel(userID), "tab": "home",
		"event_ts": formatTS(now.UnixMicro()),
	}
	for i := len(s.views) - 1; i >= 0; i-- {
		if v := s.views[i]; v.Type == "home" && v.UserID == userID {
			event["view"] = s.viewJSON(v)
			break
		}
	}
	payload := map[string]any{
		"token": VerificationToken, "team_id": s.opts.TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": "Ev" + randomHex(5), "event_time": now.Unix(),
		"authorizations": []any{map[string]any{"enterprise_id": nilIfEmpty(s.opts.EnterpriseID), "team_id": s.opts.TeamID,
			"user_id": BotUserID, "is_bot": true, "is_enterprise_install": false}},
		"is_ext_shared_channel": false, "event_context": "4-" + randomHex(8),
	}
	if s.opts.EnterpriseID != "" {
		payload["enterprise_id"] = s.opts.EnterpriseID
	}
	s.mu.Unlock()
	id := newUUID()
	return id, s.Send(ctx, Envelope{Type: "events_api", EnvelopeID: id, Payload: payload})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
