// Package fakeaws is an in-process fake of the parts of AWS IAM and STS the
// bot uses, speaking the AWS Query protocol on a loopback HTTP server so that
// the real aws-sdk-go-v2 clients can be pointed at it (through BaseEndpoint,
// or AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS).
//
// It is shared by every test in the project, the demo (bot/demo) and the load
// generator (bot/loadtest); never by the bot's binary.
// IAM (Version=2010-05-08) and STS (Version=2011-06-15) are served on the same
// endpoint and told apart by the Version parameter. Answers are the XML the
// services send, in their namespaces, with a RequestId both in the body and in
// the x-amzn-RequestId header; errors are <ErrorResponse> documents with the
// HTTP statuses IAM uses, so the SDK turns them into its typed errors.
//
// Requests must carry a SigV4 Authorization header made with AccessKeyID and
// SecretAccessKey; the signature is verified. Every request is recorded (see
// Calls and WaitCall), and tests can inject faults (FailNext), stall requests
// (Hold) and slow every answer down (SetLatency).
//
// Several accounts live in one fake: AddAccount makes one with users,
// policy and faults of its own, reached through STS AssumeRole on a Role
// in it, whose temporary keys the fake maps to the account (accounts.go).
//
// All methods are safe for concurrent use.
package fakeaws

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Identity of the fake account and of the caller every request is made as.
const (
	// AccountID is the fake account's 12-digit ID.
	AccountID = "123456789012"
	// AccessKeyID is the only access key the fake accepts.
	AccessKeyID = "AKIAFAKE0EXAMPLE0001"
	// SecretAccessKey is the secret that goes with AccessKeyID; requests are
	// signature-checked against it.
	SecretAccessKey = "fakeSecret0123456789abcdefghijklmnopqrstu"
	// Region is the region Env and Config hand to the SDK.
	Region = "us-east-1"
	// BotUserName is the IAM user the caller is:
	// arn:aws:iam::123456789012:user/aws-reset-bot. New adds it to the
	// account (without a console password).
	BotUserName = "aws-reset-bot"
)

// Namespaces of the two services' XML documents.
const (
	iamVersion   = "2010-05-08"
	stsVersion   = "2011-06-15"
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// maxBody bounds a request body; real Query requests are a few KB.
const maxBody = 1 << 20

// Options configures a Server.
type Options struct {
	// Latency is added to every answer (see SetLatency).
	Latency time.Duration
	// AccountAlias is what ListAccountAliases answers; "" means the account
	// has none (an empty list).
	AccountAlias string
	// Now is the clock used for timestamps (creation dates, report ages,
	// Call.At). Default time.Now.
	Now func() time.Time
	// EnforceAllowed makes the fake refuse, with AccessDenied (403), every
	// IAM request that the SetAllowed rules would not allow, the way IAM
	// enforces the caller's policies. Off by default: then the rules only
	// shape SimulatePrincipalPolicy's answers.
	EnforceAllowed bool
}

// Server is a running fake IAM + STS endpoint. Create it with New and stop it
// with Close.
type Server struct {
	srv      *httptest.Server
	now      func() time.Time
	enforce  bool
	closed   chan struct{}
	closeOne sync.Once

	mu          sync.Mutex
	latency     time.Duration
	alias       string
	started     time.Time
	users       map[string]*user
	policy      *PasswordPolicy
	rules       []Rule
	report      reportState
	faults      map[string][]string // action ("" = any) -> codes, in order
	holds       map[*hold]struct{}
	held        []Call // requests blocked by a hold right now
	calls       []Call
	changed     chan struct{} // closed and replaced whenever calls or held change
	reportDelay int

	accountID string  // the account this state is; AccountID for the Server New returns
	parent    *Server // the Server that listens, for an account AddAccount made; nil for it
	accounts  accountsState
}

// New starts a fake on 127.0.0.1. The account starts with the bot's own user
// (BotUserName), no password policy, and every action allowed.
func New(opts Options) *Server {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		now:         now,
		enforce:     opts.EnforceAllowed,
		closed:      make(chan struct{}),
		latency:     opts.Latency,
		alias:       opts.AccountAlias,
		started:     now(),
		users:       make(map[string]*user),
		faults:      make(map[string][]string),
		holds:       make(map[*hold]struct{}),
		changed:     make(chan struct{}),
		reportDelay: 1,
		accountID:   AccountID,
	}
	s.AddUser(User{Name: BotUserName})
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// httptest listens on 127.0.0.1 already; say so explicitly, since the
	// bot's tests must never depend on anything but loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakeaws: listen on loopback: %v", err))
	}
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	return s
}

// Close wakes every held or delayed request (their connections are dropped)
// and shuts the server down. It is safe to call more than once.
func (s *Server) Close() {
	if s.parent != nil {
		return // an account of another Server: that one closes
	}
	s.closeOne.Do(func() {
		close(s.closed)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// URL is the endpoint's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string {
	if s.parent != nil {
		return s.parent.URL()
	}
	return s.srv.URL
}

// Env returns the environment a process needs to reach this fake through the
// SDK's default configuration chain: AWS_ENDPOINT_URL_IAM,
// AWS_ENDPOINT_URL_STS, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
// and AWS_EC2_METADATA_DISABLED=true (so the SDK never probes IMDS).
//
// To keep an ambient environment from leaking in, it also sets
// AWS_SESSION_TOKEN and AWS_PROFILE to "" (the SDK treats empty as unset) and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_IAM":                s.URL(),
		"AWS_ENDPOINT_URL_STS":                s.URL(),
		"AWS_ACCESS_KEY_ID":                   AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":               SecretAccessKey,
		"AWS_REGION":                          Region,
		"AWS_EC2_METADATA_DISABLED":           "true",
		"AWS_SESSION_TOKEN":                   "",
		"AWS_PROFILE":                         "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
	}
}

// Config returns an aws.Config with static credentials, Region and
// BaseEndpoint set to URL(), for tests that build clients directly. It keeps
// the SDK's default retryer: tests that check a single failure should lower
// the attempts (retry.AddWithMaxAttempts or aws.NopRetryer).
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL()),
	}
}

// SetLatency sets the delay added to every answer from now on. A delayed
// request still ends early if its client goes away or the server closes.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// request is one parsed Query request.
type request struct {
	action  string
	version string
	params  url.Values
	id      string
	call    Call
	key     *issuedKey // the temporary credentials it was signed with; nil for AccessKeyID
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	at := s.now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		s.drop(w, Call{At: at, Code: codeCanceled})
		return
	}
	req := s.parse(r, body, at)
	if req == nil {
		id := s.newRequestID()
		e := apiErr("MalformedQueryString", "The query string is malformed or too large.")
		s.answer(w, r, &request{id: id, call: Call{At: at, RequestID: id}}, nil, e)
		return
	}

	if e := s.authenticate(r, body, req); e != nil {
		s.answer(w, r, req, nil, e)
		return
	}
	// A request signed with an assumed role's credentials is served by that
	// role's account; AssumeRole itself always by the Server that issues.
	target := s
	if req.key != nil && !(req.version == stsVersion && req.action == "AssumeRole") {
		target = req.key.account
	}
	if !s.waitHolds(r.Context(), req) || target != s && !target.waitHolds(r.Context(), req) {
		s.drop(w, withCode(req.call, codeCanceled))
		return
	}
	code, ok := s.takeFault(req.action)
	if !ok && target != s {
		code, ok = target.takeFault(req.action)
	}
	if ok {
		switch code {
		case codeNetwork:
			s.delay(r.Context())
			s.drop(w, withCode(req.call, codeNetwork))
			return
		case codeNetworkAfter:
			// The action takes effect; only its answer is lost.
			_, _ = target.dispatch(req)
			s.delay(r.Context())
			s.drop(w, withCode(req.call, codeNetworkAfter))
			return
		}
		s.answer(w, r, req, nil, faultErr(code))
		return
	}
	result, e := target.dispatch(req)
	s.answer(w, r, req, result, e)
}

// parse reads the Query parameters from the body (and, for completeness, the
// URL's query string). It returns nil for a body that is not a form.
func (s *Server) parse(r *http.Request, body []byte, at time.Time) *request {
	if len(body) > maxBody {
		return nil
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	for k, vs := range r.URL.Query() {
		params[k] = append(params[k], vs...)
	}
	req := &request{
		action:  params.Get("Action"),
		version: params.Get("Version"),
		params:  params,
		id:      s.newRequestID(),
	}
	req.call = Call{
		Action:      req.action,
		Params:      params,
		AccessKeyID: credentialKeyID(r.Header.Get("Authorization")),
		At:          at,
		RequestID:   req.id,
	}
	return req
}

// answer waits for the configured latency, then writes a success document
// (result may be nil for actions without a Result element) or an error
// document, and records the call.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req *request, result any, e *apiError) {
	if !s.delay(r.Context()) {
		s.drop(w, withCode(req.call, codeCanceled))
		return
	}
	ns := iamNamespace
	if req.version == stsVersion {
		ns = stsNamespace
	}
	var buf bytes.Buffer
	call := req.call
	if e != nil {
		call.Status, call.Code = e.status, e.code
		writeErrorDoc(&buf, ns, e, req.id)
	} else {
		call.Status = http.StatusOK
		if err := writeResultDoc(&buf, ns, req.action, result, req.id); err != nil {
			e = apiErr("InternalFailure", "fakeaws: "+err.Error())
			buf.Reset()
			call.Status, call.Code = e.status, e.code
			writeErrorDoc(&buf, ns, e, req.id)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", req.id)
	w.WriteHeader(call.Status)
	_, _ = w.Write(buf.Bytes())
	s.recordFor(req, call)
}

// drop closes the connection without an answer and records the call with
// Status 0.
func (s *Server) drop(w http.ResponseWriter, call Call) {
	call.Status = 0
	s.record(call) // on this Server only: a dropped request's account is not looked at
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// delay sleeps for the current latency. It reports false if the request's
// context ended or the server closed first.
func (s *Server) delay(ctx context.Context) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closed:
	}
	return false
}

func (s *Server) newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func withCode(c Call, code string) Call {
	c.Code = code
	return c
}

// userARN is the ARN of the user called name under path in s's account.
func (s *Server) userARN(path, name string) string { return accountUserARN(s.accountID, path, name) }

func accountUserARN(account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + account + ":user" + path + name
}

// callerARN is the ARN every request made with AccessKeyID is made as.
var callerARN = accountUserARN(AccountID, "/", BotUserName)
