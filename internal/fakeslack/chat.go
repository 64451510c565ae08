package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxTextRunes is the longest "text" Slack accepts; beyond it: msg_too_long.
const maxTextRunes = 40000

// Message is a message the bot posted, as it now stands (updates applied).
type Message struct {
	Channel, TS, Text string
	// User is the recipient of an ephemeral message; "" for messages the channel sees.
	User     string
	ThreadTS string
	// Blocks are the message's blocks as Slack stores them: validated, re-encoded, and with a
	// generated block_id on each block and action_id on each interactive element that lacked one.
	Blocks      json.RawMessage
	Attachments json.RawMessage
	Metadata    json.RawMessage
	Username    string
	Ephemeral   bool
	// Updates counts the changes made by chat.update or a response URL's replace_original.
	Updates int
}

// Messages returns every stored message, oldest first. Messages deleted through a response
// URL are gone.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = m.clone()
	}
	return out
}

// Message returns the message at channel and ts, ephemeral or not.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.findMessageLocked(channel, ts, true); i >= 0 {
		return s.messages[i].clone(), true
	}
	return Message{}, false
}

// WaitMessage returns the first stored message, in post order, for which match reports true,
// waiting for one if there is none yet. Later updates count: a message updated to match is
// found.
func (s *Server) WaitMessage(ctx context.Context, match func(Message) bool) (Message, error) {
	var found Message
	err := s.await(ctx, "message", func() bool {
		for _, m := range s.Messages() {
			if match == nil || match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

func (m Message) clone() Message {
	m.Blocks = bytes.Clone(m.Blocks)
	m.Attachments = bytes.Clone(m.Attachments)
	m.Metadata = bytes.Clone(m.Metadata)
	return m
}

func (s *Server) findMessageLocked(channel, ts string, ephemeralToo bool) int {
	for i, m := range s.messages {
		if m.Channel == channel && m.TS == ts && (ephemeralToo || !m.Ephemeral) {
			return i
		}
	}
	return -1
}

// nextTSLocked returns a message timestamp ("1700000000.000100") from the clock, strictly
// increasing even when the clock stands still.
func (s *Server) nextTSLocked() string {
	us := max(s.now().UnixMicro(), s.lastTS+1)
	s.lastTS = us
	return formatTS(us)
}

func formatTS(us int64) string { return fmt.Sprintf("%d.%06d", us/1e6, us%1e6) }

// target is a conversation the bot addresses.
type target struct {
	id     string
	dmUser string   // for a DM: the user at the other end
	ch     *channel // for a registered channel
}

// targetLocked resolves a channel argument. A user ID stands for the bot's DM with that user
// where Slack allows it (chat.postMessage and chat.postEphemeral, not chat.update).
func (s *Server) targetLocked(id string, userIDOK bool) (target, string) {
	if userIDOK && (strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W")) {
		if _, ok := s.users[id]; ok {
			return target{id: DMChannel(id), dmUser: id}, ""
		}
		return target{}, "channel_not_found"
	}
	if u, ok := s.dmUsers[id]; ok {
		return target{id: id, dmUser: u}, ""
	}
	ch, ok := s.channels[id]
	switch {
	case !ok, strings.HasPrefix(id, "G") && !ch.members[BotUserID]:
		return target{}, "channel_not_found"
	case !ch.members[BotUserID]:
		return target{}, "not_in_channel"
	}
	return target{id: id, ch: ch}, ""
}

// content is the message content of a chat or response-URL request.
type content struct {
	text        string
	hasText     bool
	blocks      json.RawMessage
	hasBlocks   bool
	attachments json.RawMessage
	metadata    json.RawMessage
}

// parseContentLocked validates text, blocks, attachments and metadata as Slack does.
func (s *Server) parseContentLocked(p url.Values) (content, apiResult, bool) {
	c := content{text: p.Get("text"), hasText: p.Has("text")}
	if utf8.RuneCountInString(c.text) > maxTextRunes {
		return c, errResult("msg_too_long"), false
	}
	if raw := p.Get("blocks"); raw != "" {
		blocks, code, problems := validateBlocks(raw, s.nextIDLocked)
		if code != "" {
			res := errResult(code)
			if len(problems) > 0 {
				res.body["response_metadata"] = map[string]any{"messages": problems}
			}
			return c, res, false
		}
		c.blocks, c.hasBlocks = blocks, true
	}
	if raw := p.Get("attachments"); raw != "" {
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return c, errResult("invalid_attachments"), false
		}
		if len(list) > 0 {
			c.attachments = json.RawMessage(raw)
		}
	}
	if raw := p.Get("metadata"); raw != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &obj); err != nil {
			return c, errResult("invalid_metadata_format"), false
		}
		c.metadata = json.RawMessage(raw)
	}
	if c.text == "" && len(c.blocks) == 0 && len(c.attachments) == 0 {
		return c, errResult("no_text"), false
	}
	return c, apiResult{}, true
}

func (s *Server) chatPostMessage(req apiRequest) apiResult {
	t, code := s.targetLocked(req.params.Get("channel"), true)
	if code != "" {
		return errResult(code)
	}
	c, res, ok := s.parseContentLocked(req.params)
	if !ok {
		return res
	}
	m := s.postLocked(t.id, "", c, req.params.Get("thread_ts"))
	m.Username = req.params.Get("username")
	s.messages[len(s.messages)-1] = m
	return okResult(map[string]any{"channel": m.Channel, "ts": m.TS, "message": s.messageJSON(m)})
}

func (s *Server) chatPostEphemeral(req apiRequest) apiResult {
	t, code := s.targetLocked(req.params.Get("channel"), true)
	if code != "" {
		return errResult(code)
	}
	user := req.params.Get("user")
	_, known := s.users[user]
	if !known || t.dmUser != "" && t.dmUser != user || t.ch != nil && !t.ch.members[user] {
		return errResult("user_not_in_channel")
	}
	c, res, ok := s.parseContentLocked(req.params)
	if !ok {
		return res
	}
	m := s.postLocked(t.id, user, c, req.params.Get("thread_ts"))
	return okResult(map[string]any{"message_ts": m.TS})
}

// postLocked stores a new message; user is set for an ephemeral one.
func (s *Server) postLocked(channel, user string, c content, threadTS string) Message {
	m := Message{
		Channel:     channel,
		TS:          s.nextTSLocked(),
		Text:        c.text,
		User:        user,
		ThreadTS:    threadTS,
		Blocks:      c.blocks,
		Attachments: c.attachments,
		Metadata:    c.metadata,
		Ephemeral:   user != "",
	}
	s.messages = append(s.messages, m)
	return m
}

// chatUpdate edits a message the bot posted. Ephemeral messages cannot be edited this way
// (message_not_found), only through their response URL.
func (s *Server) chatUpdate(req apiRequest) apiResult {
	t, code := s.targetLocked(req.params.Get("channel"), false)
	if code != "" {
		return errResult(code)
	}
	i := s.findMessageLocked(t.id, req.params.Get("ts"), false)
	if i < 0 {
		return errResult("message_not_found")
	}
	c, res, ok := s.parseContentLocked(req.params)
	if !ok {
		return res
	}
	s.applyUpdateLocked(i, c)
	m := s.messages[i]
	return okResult(map[string]any{"channel": m.Channel, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)})
}

// applyUpdateLocked replaces a message's content the way chat.update does: blocks are kept
// only when neither text nor blocks are given.
func (s *Server) applyUpdateLocked(i int, c content) {
	m := &s.messages[i]
	switch {
	case c.hasBlocks:
		m.Blocks = c.blocks
	case c.hasText:
		m.Blocks = nil
	}
	m.Text = c.text
	if c.attachments != nil {
		m.Attachments = c.attachments
	}
	if c.metadata != nil {
		m.Metadata = c.metadata
	}
	m.Updates++
}

// messageJSON renders a stored message as the Web API and interactive payloads show it.
func (s *Server) messageJSON(m Message) map[string]any {
	out := map[string]any{
		"type":   "message",
		"user":   BotUserID,
		"bot_id": BotID,
		"app_id": AppID,
		"text":   m.Text,
		"ts":     m.TS,
		"team":   s.opts.TeamID,
		"bot_profile": map[string]any{
			"id":      BotID,
			"app_id":  AppID,
			"name":    BotName,
			"deleted": false,
			"team_id": s.opts.TeamID,
			"updated": 1700000000,
			"icons":   map[string]any{"image_36": "https://a.slack-edge.com/fake/bot_36.png"},
		},
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = json.RawMessage(m.Blocks)
	}
	if len(m.Attachments) > 0 {
		out["attachments"] = json.RawMessage(m.Attachments)
	}
	if len(m.Metadata) > 0 {
		out["metadata"] = json.RawMessage(m.Metadata)
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Username != "" {
		out["username"] = m.Username
	}
	return out
}
