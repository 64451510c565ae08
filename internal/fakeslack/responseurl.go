package fakeslack

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Response URLs may be used this many times, within this long, as on Slack.
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

// ResponseURLMethod is the Call.Method (and FailNext method) of posts to response URLs.
const ResponseURLMethod = "response_url"

// responseTarget is what a response URL answers for: the conversation and user of a slash
// command or block action, and for an action the message it came from.
type responseTarget struct {
	channel, user, messageTS string
	created                  time.Time
	uses                     int
}

// newResponseURLLocked registers a response URL shaped like Slack's
// (…/commands/T…/<id>/<secret>) on this server.
func (s *Server) newResponseURLLocked(kind, team, channel, user, messageTS string) string {
	path := fmt.Sprintf("/%s/%s/%d/%s", kind, team, 1000000000+s.nextIDLocked(), randomHex(12))
	s.responseURLs[path] = &responseTarget{channel: channel, user: user, messageTS: messageTS, created: s.now()}
	return s.srv.URL + path
}

// serveResponseURL handles a JSON post to a response URL: a new message (ephemeral to the
// user unless response_type is "in_channel"), or with replace_original / delete_original a
// change to the message the action came from (ephemeral ones included). Each post is
// recorded as a Call with Method ResponseURLMethod and the body's fields as Params.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var fields map[string]string
	if err == nil {
		fields, err = jsonFields(body)
	}
	params := url.Values{}
	for k, v := range fields {
		params.Set(k, v)
	}

	s.mu.Lock()
	var res apiResult
	switch {
	case r.Method != http.MethodPost:
		res = apiResult{status: http.StatusMethodNotAllowed, text: "method not allowed\n"}
	case err != nil:
		res = errResult("invalid_json")
	default:
		res = s.handleResponseURLLocked(r.URL.Path, params)
	}
	encoded, code := res.encode()
	s.calls = append(s.calls, Call{
		Method:   ResponseURLMethod,
		Params:   params,
		At:       s.now(),
		Status:   res.status,
		Error:    code,
		Response: encoded,
	})
	s.notifyLocked()
	s.mu.Unlock()

	res.write(w, encoded)
}

func (s *Server) handleResponseURLLocked(path string, p url.Values) apiResult {
	if f, ok := s.popFaultLocked(ResponseURLMethod); ok {
		return f.result()
	}
	t, ok := s.responseURLs[path]
	switch {
	case !ok:
		return apiResult{status: http.StatusNotFound, body: map[string]any{"ok": false, "error": "no_service"}}
	case s.now().Sub(t.created) > responseURLTTL:
		return apiResult{status: http.StatusNotFound, body: map[string]any{"ok": false, "error": "expired_url"}}
	case t.uses >= responseURLUses:
		return apiResult{status: http.StatusNotFound, body: map[string]any{"ok": false, "error": "used_url"}}
	}
	t.uses++

	original := -1
	if t.messageTS != "" {
		original = s.findMessageLocked(t.channel, t.messageTS, true)
	}
	if p.Get("delete_original") == "true" {
		if original < 0 {
			return errResult("message_not_found")
		}
		s.messages = append(s.messages[:original], s.messages[original+1:]...)
		return okResult(nil)
	}
	c, res, ok := s.parseContentLocked(p)
	if !ok {
		return res
	}
	if p.Get("replace_original") == "true" {
		if original < 0 {
			return errResult("message_not_found")
		}
		s.applyUpdateLocked(original, c)
		return okResult(nil)
	}
	user := t.user
	if p.Get("response_type") == "in_channel" {
		user = ""
	}
	s.postLocked(t.channel, user, c, p.Get("thread_ts"))
	return okResult(nil)
}
