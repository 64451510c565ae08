package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const apiPrefix = "/api/"

// Call is one Web API request as the fake received and answered it. Failed calls (auth errors,
// faults, rate limits, ok:false answers) are recorded too.
type Call struct {
	Method string
	// Params is the request's form (query and body; for a JSON body, its fields, with
	// non-string values JSON-encoded). It includes the "token" field when one was sent.
	Params url.Values
	// Token is the token the request presented: the Authorization bearer token, else the
	// "token" form field ("" if none).
	Token string
	At    time.Time
	// Status is the HTTP status of the answer.
	Status int
	// Error is the answer's "error" code ("" for ok:true and for non-JSON answers).
	Error string
	// Response is the JSON body of the answer (nil for non-JSON answers).
	Response json.RawMessage
}

// Fault is an injected failure for FailNext.
//
//   - Status 429: HTTP 429 with Retry-After (RetryAfter rounded up to whole seconds, at least
//     1) and {"ok":false,"error":"ratelimited"}, as a real rate limit.
//   - Any other Status but 0 and 200, e.g. 503: that status with a non-JSON body, and a
//     Retry-After header if RetryAfter is set.
//   - Otherwise: HTTP 200 {"ok":false,"error":Error}, Error defaulting to "internal_error".
type Fault struct {
	Status     int
	RetryAfter time.Duration
	Error      string
}

// FailNext makes the next n calls of method fail with f, before authentication and rate
// limiting. Faults queue up: FailNext twice fails n1+n2 calls in order. The method
// "response_url" applies to posts to response URLs.
func (s *Server) FailNext(method string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], f)
	}
}

// SetRateLimit changes one method's limit (calls per sliding minute) at run time; see
// Options.RateLimits. A negative perMinute removes the limit.
func (s *Server) SetRateLimit(method string, perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perMinute < 0 {
		delete(s.rateLimit, method)
		return
	}
	s.rateLimit[method] = perMinute
}

// Calls returns the recorded Web API calls of method ("" = all), oldest first.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c.clone())
		}
	}
	return out
}

// WaitCall returns the first call of method ("" = any) for which match (nil = any) reports
// true, waiting for it if it has not happened yet.
func (s *Server) WaitCall(ctx context.Context, method string, match func(Call) bool) (Call, error) {
	var found Call
	err := s.await(ctx, "call "+method, func() bool {
		for _, c := range s.Calls(method) {
			if match == nil || match(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found, err
}

func (c Call) clone() Call {
	c.Params = url.Values(maps.Clone(map[string][]string(c.Params)))
	return c
}

// apiResult is an answer to an HTTP request: a JSON body, or a plain one for error statuses.
type apiResult struct {
	status     int
	retryAfter time.Duration
	body       map[string]any
	text       string
}

func okResult(fields map[string]any) apiResult {
	if fields == nil {
		fields = make(map[string]any)
	}
	fields["ok"] = true
	return apiResult{status: http.StatusOK, body: fields}
}

func errResult(code string) apiResult {
	return apiResult{status: http.StatusOK, body: map[string]any{"ok": false, "error": code}}
}

func rateLimitedResult(retry time.Duration) apiResult {
	return apiResult{
		status:     http.StatusTooManyRequests,
		retryAfter: retry,
		body:       map[string]any{"ok": false, "error": "ratelimited"},
	}
}

func (f Fault) result() apiResult {
	switch {
	case f.Status == http.StatusTooManyRequests:
		return rateLimitedResult(f.RetryAfter)
	case f.Status != 0 && f.Status != http.StatusOK:
		return apiResult{status: f.Status, retryAfter: f.RetryAfter, text: http.StatusText(f.Status) + "\n"}
	default:
		code := f.Error
		if code == "" {
			code = "internal_error"
		}
		return errResult(code)
	}
}

// encode renders the result's body once, for both the wire and the call record.
func (r apiResult) encode() (body []byte, errCode string) {
	if r.body == nil {
		return nil, ""
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		// Bodies are built from plain maps, strings and raw JSON that was validated.
		panic(fmt.Sprintf("fakeslack: encode answer: %v", err))
	}
	code, _ := r.body["error"].(string)
	return b, code
}

func (r apiResult) write(w http.ResponseWriter, body []byte) {
	if r.retryAfter > 0 || r.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(r.retryAfter)))
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(r.status)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(r.status)
	_, _ = io.WriteString(w, r.text)
}

// retrySeconds rounds d up to whole seconds, at least 1, as Retry-After carries it.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// apiRequest is a parsed Web API request.
type apiRequest struct {
	params url.Values
	token  string
}

// tokenKind classifies a presented token.
type tokenKind int

const (
	tokenNone tokenKind = iota
	tokenBot
	tokenApp
	tokenUnknown
)

func classifyToken(tok string) tokenKind {
	switch tok {
	case "":
		return tokenNone
	case BotToken:
		return tokenBot
	case AppToken:
		return tokenApp
	default:
		return tokenUnknown
	}
}

// methodSpec describes one served Web API method.
type methodSpec struct {
	bot, app bool // which token types the method accepts
	handle   func(s *Server, req apiRequest) apiResult
}

// methods are the Web API methods the fake serves. Handlers run with s.mu held.
var methods = map[string]methodSpec{
	"auth.test":             {bot: true, app: true, handle: (*Server).authTest},
	"apps.connections.open": {app: true, handle: (*Server).appsConnectionsOpen},
	"users.info":            {bot: true, handle: (*Server).usersInfo},
	"conversations.open":    {bot: true, handle: (*Server).conversationsOpen},
	"conversations.info":    {bot: true, handle: (*Server).conversationsInfo},
	"chat.postMessage":      {bot: true, handle: (*Server).chatPostMessage},
	"chat.postEphemeral":    {bot: true, handle: (*Server).chatPostEphemeral},
	"chat.update":           {bot: true, handle: (*Server).chatUpdate},
	"usergroups.users.list": {bot: true, handle: (*Server).usergroupsUsersList},
	"views.open":            {bot: true, handle: (*Server).viewsOpen},
	"views.publish":         {bot: true, handle: (*Server).viewsPublish},
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, apiPrefix)
	req, parseErr := readAPIRequest(r)

	s.mu.Lock()
	var res apiResult
	if parseErr != "" {
		res = errResult(parseErr)
	} else {
		res = s.handleAPILocked(method, req)
	}
	body, code := res.encode()
	s.calls = append(s.calls, Call{
		Method:   method,
		Params:   req.params,
		Token:    req.token,
		At:       s.now(),
		Status:   res.status,
		Error:    code,
		Response: body,
	})
	s.notifyLocked()
	s.mu.Unlock()

	res.write(w, body)
}

// handleAPILocked applies, in order: injected faults, method lookup, authentication, rate
// limits, and the method itself.
func (s *Server) handleAPILocked(method string, req apiRequest) apiResult {
	if f, ok := s.popFaultLocked(method); ok {
		return f.result()
	}
	spec, ok := methods[method]
	if !ok {
		return errResult("unknown_method")
	}
	switch kind := classifyToken(req.token); {
	case kind == tokenNone:
		return errResult("not_authed")
	case kind == tokenUnknown:
		return errResult("invalid_auth")
	case kind == tokenBot && !spec.bot, kind == tokenApp && !spec.app:
		return errResult("not_allowed_token_type")
	}
	if retry, limited := s.rateLimitedLocked(method); limited {
		return rateLimitedResult(retry)
	}
	return spec.handle(s, req)
}

func (s *Server) popFaultLocked(method string) (Fault, bool) {
	q := s.faults[method]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[method] = q[1:]
	return q[0], true
}

// rateLimitedLocked counts a call of method against its sliding one-minute window and
// reports, when over the limit, how long until the window has room again.
func (s *Server) rateLimitedLocked(method string) (time.Duration, bool) {
	limit, ok := s.rateLimit[method]
	if !ok {
		return 0, false
	}
	if limit <= 0 {
		return time.Minute, true
	}
	now := s.now()
	window := s.rateLog[method]
	keep := 0
	for keep < len(window) && !window[keep].After(now.Add(-time.Minute)) {
		keep++
	}
	window = window[keep:]
	if len(window) >= limit {
		s.rateLog[method] = window
		return window[len(window)-limit].Add(time.Minute).Sub(now), true
	}
	s.rateLog[method] = append(window, now)
	return 0, false
}

// maxBody bounds request bodies; Slack's own limits are far below it.
const maxBody = 8 << 20

// readAPIRequest parses a Web API request the ways Slack accepts one: a form (query and
// url-encoded body) with the token in the "token" field or an Authorization bearer header, or
// a JSON body, for which only the header carries the token. It returns a Slack error code
// when the body cannot be read.
func readAPIRequest(r *http.Request) (apiRequest, string) {
	var req apiRequest
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.token = strings.TrimSpace(tok)
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		req.params = r.URL.Query()
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return req, "invalid_json"
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return req, ""
		}
		fields, err := jsonFields(body)
		if err != nil {
			return req, "invalid_json"
		}
		for k, v := range fields {
			req.params.Set(k, v)
		}
		return req, ""
	}
	if err := r.ParseForm(); err != nil {
		req.params = url.Values{}
		return req, "invalid_form_data"
	}
	req.params = r.Form
	if req.token == "" {
		req.token = req.params.Get("token")
	}
	return req, ""
}

// jsonFields flattens a JSON object into strings: strings as they are, anything else as JSON.
func jsonFields(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(obj))
	for k, raw := range obj {
		if string(raw) == "null" {
			continue // a null field counts as absent
		}
		var str string
		if err := json.Unmarshal(raw, &str); err == nil {
			out[k] = str
			continue
		}
		out[k] = string(raw)
	}
	return out, nil
}
