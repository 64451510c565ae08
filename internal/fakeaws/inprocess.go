package fakeaws

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
)

// InProcessClient returns an HTTP client that serves every request by calling
// the fake's handler in the caller's goroutine, with no connection at all.
// Put it in aws.Config.HTTPClient for tests inside a testing/synctest bubble:
// there a loopback connection's reader never counts as durably blocked, so
// the bubble's clock would never advance, while this client leaves only the
// SDK's and the fake's own timers and locks. Calls are recorded at the
// bubble's time. A dropped connection (FailNext with "network") comes back as
// an error from the client.
//
// Use it with a Server created outside the bubble, and only from inside it.
func (s *Server) InProcessClient() *http.Client {
	return &http.Client{Transport: inProcess{s}}
}

// errDropped is what the in-process client returns for a dropped connection.
var errDropped = errors.New("fakeaws: connection closed without an answer")

type inProcess struct{ s *Server }

func (t inProcess) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	in := req.Clone(req.Context())
	if in.Host == "" {
		in.Host = req.URL.Host // a server sees the Host header, which SigV4 signs
	}
	in.RequestURI = req.URL.RequestURI()
	in.Body = req.Body
	rec := httptest.NewRecorder()
	defer func() {
		// drop aborts the handler when it cannot hijack the connection.
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			resp, err = nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, errDropped)
		}
	}()
	t.s.serveHTTP(rec, in)
	out := rec.Result()
	out.Request = req
	return out, nil
}
