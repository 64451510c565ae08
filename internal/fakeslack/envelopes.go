package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Envelope is a Socket Mode message from Slack to the app.
type Envelope struct {
	// Type is "slash_commands", "interactive", "events_api", …
	Type       string
	EnvelopeID string
	// Payload is encoded with encoding/json; pass a json.RawMessage to send bytes as they are.
	Payload                any
	AcceptsResponsePayload bool
	// RetryAttempt and RetryReason mark a redelivery. They are on the wire whenever set, and
	// always for events_api envelopes (as zero values), as Slack sends them.
	RetryAttempt int
	RetryReason  string
}

// MarshalJSON encodes the envelope as Slack puts it on the wire.
func (e Envelope) MarshalJSON() ([]byte, error) {
	out := map[string]any{
		"envelope_id":              e.EnvelopeID,
		"payload":                  e.Payload,
		"type":                     e.Type,
		"accepts_response_payload": e.AcceptsResponsePayload,
	}
	if e.Type == "events_api" || e.RetryAttempt != 0 || e.RetryReason != "" {
		out["retry_attempt"] = e.RetryAttempt
		out["retry_reason"] = e.RetryReason
	}
	return json.Marshal(out)
}

// Send sends e, as given, on the current Socket Mode connection, waiting within ctx for a
// client to be connected.
func (s *Server) Send(ctx context.Context, e Envelope) error {
	frame, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s envelope: %w", e.Type, err)
	}
	at := s.now()
	if !s.opts.Spread && s.opts.RedeliverAfter <= 0 {
		if err := s.SendRaw(ctx, frame); err != nil {
			return err
		}
		s.noteSent(e.EnvelopeID, at)
		return nil
	}
	c, err := s.sendSpread(ctx, e.EnvelopeID, frame, nil)
	if err != nil {
		return err
	}
	s.noteSent(e.EnvelopeID, at)
	s.watchAck(e, c)
	return nil
}

// noteSent records when envelope id was first handed to a connection.
func (s *Server) noteSent(id string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sentAt[id]; !ok && id != "" {
		s.sentAt[id] = at
	}
}

// SentAt returns when Send first wrote envelope id to a connection (just
// before the write): with an ack's At, the latency the client added,
// without the time this server took to build the envelope.
func (s *Server) SentAt(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.sentAt[id]
	return at, ok
}

// SlashCommand describes a slash command a user runs. Zero fields default: Command to
// "/aws-reset"; TeamID and EnterpriseID to the server's; ChannelID to the user's DM with the
// bot (DMChannel(UserID)); UserName to the stored user's name; ChannelName to
// "directmessage" for a DM, else the registered channel's name.
type SlashCommand struct {
	Command, Text, UserID, UserName, TeamID, EnterpriseID, ChannelID, ChannelName string
}

// SlashCommand sends a slash_commands envelope for c on the current connection (waiting for
// one within ctx) and returns its envelope ID. The payload carries the fields Slack sends:
// token, team_id, team_domain, enterprise_id and enterprise_name (Grid only), channel_id,
// channel_name, user_id, user_name, command, text, api_app_id, is_enterprise_install (a
// string, "false", as Slack sends it for commands), response_url (served by this fake) and
// trigger_id.
func (s *Server) SlashCommand(ctx context.Context, c SlashCommand) (string, error) {
	s.mu.Lock()
	c = s.slashDefaultsLocked(c)
	payload := map[string]any{
		"token":                 VerificationToken,
		"team_id":               c.TeamID,
		"team_domain":           TeamDomain,
		"channel_id":            c.ChannelID,
		"channel_name":          c.ChannelName,
		"user_id":               c.UserID,
		"user_name":             c.UserName,
		"command":               c.Command,
		"text":                  c.Text,
		"api_app_id":            AppID,
		"is_enterprise_install": "false",
		"response_url":          s.newResponseURLLocked("commands", c.TeamID, c.ChannelID, c.UserID, ""),
		"trigger_id":            s.triggerIDLocked(),
	}
	if c.EnterpriseID != "" {
		payload["enterprise_id"] = c.EnterpriseID
		payload["enterprise_name"] = EnterpriseName
	}
	s.mu.Unlock()

	id := newUUID()
	err := s.Send(ctx, Envelope{Type: "slash_commands", EnvelopeID: id, Payload: payload, AcceptsResponsePayload: true})
	return id, err
}

func (s *Server) slashDefaultsLocked(c SlashCommand) SlashCommand {
	if c.Command == "" {
		c.Command = "/aws-reset"
	}
	if c.TeamID == "" {
		c.TeamID = s.opts.TeamID
	}
	if c.EnterpriseID == "" {
		c.EnterpriseID = s.opts.EnterpriseID
	}
	if c.ChannelID == "" {
		c.ChannelID = DMChannel(c.UserID)
	}
	if c.UserName == "" {
		c.UserName = s.users[c.UserID].Name
	}
	if c.ChannelName == "" {
		c.ChannelName = s.channelNameLocked(c.ChannelID)
	}
	return c
}

// channelNameLocked is the name Slack reports for a conversation in payloads.
func (s *Server) channelNameLocked(id string) string {
	if ch, ok := s.channels[id]; ok {
		return ch.name
	}
	if strings.HasPrefix(id, "D") {
		return "directmessage"
	}
	return strings.ToLower(id)
}

// triggerIDLocked returns a trigger ID shaped like Slack's.
func (s *Server) triggerIDLocked() string {
	id := fmt.Sprintf("%d.%d.%s", 1000000000+s.nextIDLocked(), hashString(s.opts.TeamID)%1e10, randomHex(16))
	s.triggers[id] = trigger{issued: s.now()}
	return id
}

// BlockAction describes a user clicking a button in a message. Zero TeamID and EnterpriseID
// default to the server's. When the fake holds the message at ChannelID/MessageTS, a zero
// BlockID is taken from the block holding the button with ActionID, and the button's text
// and style come from the message; Value is always sent as given.
type BlockAction struct {
	UserID, TeamID, EnterpriseID, ChannelID, MessageTS, ActionID, BlockID, Value string
	// ViewID, when set, is a click in a view (a Home tab or modal) the fake holds, not in a
	// message: the container is {type "view", view_id}, the payload carries the view and no
	// channel or message, and the button comes from the view's blocks.
	ViewID string
}

// BlockAction sends an interactive envelope with a block_actions payload as Slack sends it:
// type, user{id,username,name,team_id}, api_app_id, token, container{type "message",
// message_ts, channel_id, is_ephemeral}, trigger_id, team{id,domain[,enterprise_id,
// enterprise_name]}, enterprise (null or {id,name}), is_enterprise_install, channel{id,name},
// message (the stored message; absent, as on Slack, when it is ephemeral or unknown), state,
// response_url (served by this fake) and actions[{action_id, block_id, text, value, type
// "button", action_ts}]. It returns the envelope ID.
func (s *Server) BlockAction(ctx context.Context, a BlockAction) (string, error) {
	e, err := s.blockActionEnvelope(a)
	if err != nil {
		return "", err
	}
	return e.EnvelopeID, s.Send(ctx, e)
}

// blockActionEnvelope builds the envelope of BlockAction.
func (s *Server) blockActionEnvelope(a BlockAction) (Envelope, error) {
	s.mu.Lock()
	if a.TeamID == "" {
		a.TeamID = s.opts.TeamID
	}
	if a.EnterpriseID == "" {
		a.EnterpriseID = s.opts.EnterpriseID
	}
	user := s.users[a.UserID]
	userTeam := user.TeamID
	if userTeam == "" {
		userTeam = a.TeamID
	}
	action := map[string]any{
		"action_id": a.ActionID,
		"block_id":  a.BlockID,
		"text":      map[string]any{"type": "plain_text", "text": a.ActionID, "emoji": true},
		"value":     a.Value,
		"type":      "button",
		"action_ts": formatTS(s.now().UnixMicro()),
	}
	container := map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": a.ChannelID, "is_ephemeral": false}
	team := map[string]any{"id": a.TeamID, "domain": TeamDomain}
	payload := map[string]any{
		"type":                  "block_actions",
		"user":                  map[string]any{"id": a.UserID, "username": user.Name, "name": user.Name, "team_id": userTeam},
		"api_app_id":            AppID,
		"token":                 VerificationToken,
		"container":             container,
		"trigger_id":            s.triggerIDLocked(),
		"team":                  team,
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": a.ChannelID, "name": s.channelNameLocked(a.ChannelID)},
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          s.newResponseURLLocked("actions", a.TeamID, a.ChannelID, a.UserID, a.MessageTS),
		"actions":               []any{action},
	}
	if a.EnterpriseID != "" {
		payload["enterprise"] = map[string]any{"id": a.EnterpriseID, "name": EnterpriseName}
		team["enterprise_id"] = a.EnterpriseID
		team["enterprise_name"] = EnterpriseName
	}
	if a.ViewID != "" {
		delete(payload, "channel")
		payload["container"] = map[string]any{"type": "view", "view_id": a.ViewID}
		for _, v := range s.views {
			if v.ID == a.ViewID {
				payload["view"] = s.viewJSON(v)
				fillFromButton(action, v.Blocks)
			}
		}
	} else if i := s.findMessageLocked(a.ChannelID, a.MessageTS, true); i >= 0 {
		m := s.messages[i]
		if m.Ephemeral {
			container["is_ephemeral"] = true
		} else {
			payload["message"] = s.messageJSON(m)
		}
		fillFromButton(action, m.Blocks)
	}
	s.mu.Unlock()
	return Envelope{Type: "interactive", EnvelopeID: newUUID(), Payload: payload}, nil
}

// fillFromButton completes action from the button with its action_id in blocks (in an
// actions block or as a section accessory): the block_id when action has none, and the
// button's text and style.
func fillFromButton(action map[string]any, blocks []byte) {
	var list []struct {
		BlockID   string           `json:"block_id"`
		Elements  []map[string]any `json:"elements"`
		Accessory map[string]any   `json:"accessory"`
	}
	if json.Unmarshal(blocks, &list) != nil {
		return
	}
	for _, b := range list {
		if blockID := action["block_id"]; blockID != "" && blockID != b.BlockID {
			continue
		}
		for _, el := range append(b.Elements, b.Accessory) {
			if el["action_id"] != action["action_id"] {
				continue
			}
			action["block_id"] = b.BlockID
			if text, ok := el["text"]; ok {
				action["text"] = text
			}
			if style, ok := el["style"]; ok {
				action["style"] = style
			}
			return
		}
	}
}
