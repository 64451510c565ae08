package fakeaws

import (
	"context"
	"net/http"
	"sync"
)

// apiError is an error answer: an IAM/STS error code, its HTTP status and a
// message.
type apiError struct {
	code    string
	status  int
	message string
}

// errorInfo is what the fake knows about an error code: the HTTP status IAM
// (or STS) answers it with, and a message like the one the service sends.
type errorInfo struct {
	status  int
	message string
}

// knownErrors maps error codes to their statuses. Statuses are those of the
// IAM API reference (action errors and Common Errors) and of the smithy
// models the SDK is generated from (@httpError on each modeled error).
var knownErrors = map[string]errorInfo{
	// Modeled IAM errors (typed in service/iam/types).
	"NoSuchEntity":                  {http.StatusNotFound, "The entity cannot be found."},
	"EntityAlreadyExists":           {http.StatusConflict, "The entity already exists."},
	"EntityTemporarilyUnmodifiable": {http.StatusConflict, "The entity is temporarily unmodifiable."},
	"PasswordPolicyViolation":       {http.StatusBadRequest, "Password does not conform to the account password policy."},
	"LimitExceeded":                 {http.StatusConflict, "Cannot exceed quota."},
	"ServiceFailure":                {http.StatusInternalServerError, "The request processing has failed because of an unknown error, exception or failure."},
	"InvalidInput":                  {http.StatusBadRequest, "Invalid input."},
	"ConcurrentModification":        {http.StatusConflict, "The request was rejected because multiple requests to change this object were submitted simultaneously."},
	"UnmodifiableEntity":            {http.StatusBadRequest, "The entity cannot be modified."},
	"DeleteConflict":                {http.StatusConflict, "The entity cannot be deleted while it has subordinate entities."},
	"ReportInProgress":              {http.StatusNotFound, "Credential report is being generated."},
	"ReportNotPresent":              {http.StatusGone, "Credential report not present."},
	"ReportExpired":                 {http.StatusGone, "Credential report has expired. Generate a new one."},
	"ReportGenerationLimitExceeded": {http.StatusConflict, "Credential report generation limit exceeded."},
	// Unmodeled errors (smithy.GenericAPIError in the SDK).
	"Throttling":                 {http.StatusBadRequest, "Rate exceeded"},
	"ThrottlingException":        {http.StatusBadRequest, "Rate exceeded"},
	"AccessDenied":               {http.StatusForbidden, "User: " + callerARN + " is not authorized to perform this action."},
	"AccessDeniedException":      {http.StatusForbidden, "You don't have permission to perform this action."},
	"ServiceUnavailable":         {http.StatusServiceUnavailable, "Service is unable to handle request."},
	"InternalFailure":            {http.StatusInternalServerError, "An internal error has occurred."},
	"ValidationError":            {http.StatusBadRequest, "1 validation error detected."},
	"InvalidParameterValue":      {http.StatusBadRequest, "An invalid or out-of-range value was supplied for the input parameter."},
	"MissingParameter":           {http.StatusBadRequest, "A required parameter for the specified action is not supplied."},
	"InvalidAction":              {http.StatusBadRequest, "The action or operation requested is invalid."},
	"MissingAction":              {http.StatusBadRequest, "Missing Action"},
	"MalformedQueryString":       {http.StatusNotFound, "The query string contains a syntax error."},
	"InvalidClientTokenId":       {http.StatusForbidden, "The security token included in the request is invalid."},
	"MissingAuthenticationToken": {http.StatusForbidden, "Request is missing Authentication Token"},
	"SignatureDoesNotMatch":      {http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	"IncompleteSignature":        {http.StatusBadRequest, "The request signature does not conform to AWS standards."},
	"ExpiredToken":               {http.StatusForbidden, "The security token included in the request is expired"},
	"RequestExpired":             {http.StatusBadRequest, "Request has expired."},
	"OptInRequired":              {http.StatusForbidden, "The AWS access key ID needs a subscription for the service."},
}

// ErrorStatus returns the HTTP status the fake answers an error code with:
// the status IAM uses for the known codes, 400 for any other.
func ErrorStatus(code string) int {
	if info, ok := knownErrors[code]; ok {
		return info.status
	}
	return http.StatusBadRequest
}

// apiErr builds an error answer for code with its known status.
func apiErr(code, message string) *apiError {
	return &apiError{code: code, status: ErrorStatus(code), message: message}
}

// faultErr is the answer for a code injected with FailNext.
func faultErr(code string) *apiError {
	msg := "Injected " + code + " error."
	if info, ok := knownErrors[code]; ok {
		msg = info.message
	}
	return apiErr(code, msg)
}

// errorType is the <Type> of an error document: Receiver for server faults,
// Sender for everything the caller got wrong or must retry.
func (e *apiError) errorType() string {
	if e.status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// FailNext makes the next n requests for action ("" = any action) fail with
// code instead of being served. Calls add to the queue: FailNext("X", 2,
// "Throttling") then FailNext("X", 1, "ServiceFailure") fails three requests
// in that order. n <= 0 clears the queue for action.
//
// code is an IAM error code, answered with its real status (see
// ErrorStatus): "Throttling" (400), "ServiceFailure" (500),
// "EntityTemporarilyUnmodifiable" (409), "AccessDenied" (403),
// "NoSuchEntity" (404), "PasswordPolicyViolation" (400), "LimitExceeded"
// (409), "ServiceUnavailable" (503), "ReportInProgress" (404),
// "ReportNotPresent" (410), "ReportExpired" (410), among others; unknown
// codes are answered with 400. The pseudo-code "network" closes the
// connection without an answer and without doing anything; "network-after"
// does the action (a password really changes) and then closes the connection
// without an answer, the case where a client cannot tell whether its request
// took effect.
//
// A fault is taken after authentication and after any Hold is released, so
// it does not count requests refused for bad credentials. Remember that the
// SDK's default retryer retries Throttling, 5xx and dropped connections (3
// attempts in all) and each attempt takes one fault; it backs off from a 1 s
// base after Throttling (three attempts take about 1.5 s) and from 50 ms
// after the others. The 4xx codes other than Throttling are not retried.
func (s *Server) FailNext(action string, n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.faults, action)
		return
	}
	for range n {
		s.faults[action] = append(s.faults[action], code)
	}
}

// takeFault pops the next fault queued for action, or for any action.
func (s *Server) takeFault(action string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{action, ""} {
		if q := s.faults[key]; len(q) > 0 {
			if len(q) == 1 {
				delete(s.faults, key)
			} else {
				s.faults[key] = q[1:]
			}
			return q[0], true
		}
	}
	return "", false
}

// hold is one Hold: requests for action wait until done is closed.
type hold struct {
	action string
	done   chan struct{}
}

// Hold makes requests for action ("" = any action) block, after
// authentication and before anything else, until release is called, the
// request's client goes away, or the server closes. A request arriving after
// release is not held. release is idempotent. Several holds on one action
// stack: a request waits for all of them. Use WaitHeld to know a request is
// blocked.
func (s *Server) Hold(action string) (release func()) {
	h := &hold{action: action, done: make(chan struct{})}
	s.mu.Lock()
	s.holds[h] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.holds, h)
			s.mu.Unlock()
			close(h.done)
		})
	}
}

// waitHolds blocks while holds apply to req. It reports false if the
// request's context ended or the server closed first.
func (s *Server) waitHolds(ctx context.Context, req *request) bool {
	s.mu.Lock()
	var waits []chan struct{}
	for h := range s.holds {
		if h.action == "" || h.action == req.action {
			waits = append(waits, h.done)
		}
	}
	if len(waits) == 0 {
		s.mu.Unlock()
		return true
	}
	entry := req.call
	s.held = append(s.held, entry)
	s.notifyLocked()
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, c := range s.held {
			if c.RequestID == entry.RequestID {
				s.held = append(s.held[:i:i], s.held[i+1:]...)
				break
			}
		}
		s.notifyLocked()
	}()
	for _, done := range waits {
		select {
		case <-done:
		case <-ctx.Done():
			return false
		case <-s.closed:
			return false
		}
	}
	return true
}
