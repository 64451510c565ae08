package fakeaws

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// Call is one request the fake received, recorded when it was answered (or
// dropped).
type Call struct {
	// Action is the Query Action parameter, e.g. "UpdateLoginProfile".
	Action string
	// Params are all the request's parameters, Action and Version included.
	Params url.Values
	// AccessKeyID is the key ID from the Authorization header's credential
	// scope ("" if there was none).
	AccessKeyID string
	// At is when the request arrived, on the server's clock (Options.Now).
	At time.Time
	// Status is the HTTP status answered, or 0 when the connection was
	// closed without an answer (Code then says why: "network" or
	// "network-after" for an injected fault, "canceled" when the client went
	// away or the server closed while the request was held or delayed).
	Status int
	// Code is the error code answered; "" on success.
	Code string
	// RequestID is the request ID the answer carried (in the body and the
	// x-amzn-RequestId header).
	RequestID string
	// Account is the ID of the account the request was made in: AccountID
	// for AccessKeyID, the role's account for an assumed role's keys.
	Account string
}

// Pseudo error codes recorded in Call.Code for requests that got no answer.
const (
	codeNetwork      = "network"
	codeNetworkAfter = "network-after"
	codeCanceled     = "canceled"
)

// record appends a call and wakes WaitCall.
func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.notifyLocked()
}

// notifyLocked wakes everything waiting for a change. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Calls returns the recorded calls for action ("" = all), in the order they
// were answered, failed ones included. The result is a copy.
func (s *Server) Calls(action string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filterCalls(s.calls, action)
}

func filterCalls(calls []Call, action string) []Call {
	var out []Call
	for _, c := range calls {
		if action == "" || c.Action == action {
			c.Params = cloneValues(c.Params)
			out = append(out, c)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// WaitCall returns the first recorded call for action ("" = any) for which
// match (nil = any) is true, waiting for one to arrive if none has yet. Calls
// recorded before WaitCall was called count. It fails when ctx ends.
func (s *Server) WaitCall(ctx context.Context, action string, match func(Call) bool) (Call, error) {
	return s.waitFor(ctx, func() []Call { return s.calls }, action, match, "call")
}

// WaitHeld waits until a request for action ("" = any) is blocked by Hold and
// returns it (Status 0: it has not been answered). Use it to know a request
// is in flight before releasing it or cancelling its client.
func (s *Server) WaitHeld(ctx context.Context, action string) (Call, error) {
	return s.waitFor(ctx, func() []Call { return s.held }, action, nil, "held request")
}

func (s *Server) waitFor(ctx context.Context, list func() []Call, action string, match func(Call) bool, what string) (Call, error) {
	for {
		s.mu.Lock()
		for _, c := range filterCalls(list(), action) {
			if match == nil || match(c) {
				s.mu.Unlock()
				return c, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Call{}, fmt.Errorf("wait for %s %q: %w", what, action, ctx.Err())
		}
	}
}

// Secrets returns what must never appear in logs, output or files: the
// secret access key, the temporary keys AssumeRole issued, and every
// password sent to this fake, accepted or not.
func (s *Server) Secrets() []string {
	secrets := append([]string{SecretAccessKey}, s.IssuedSecrets()...)
	for _, c := range s.Calls("") {
		if pw := c.Params.Get("Password"); pw != "" {
			secrets = append(secrets, pw)
		}
	}
	return secrets
}
