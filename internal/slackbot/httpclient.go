package slackbot

import (
	"net"
	"net/http"
	"time"
)

// newHTTPClient is the default client for the Slack Web API: Go's default
// transport keeps two idle connections per host, so with more calls than
// that in flight each further call would open a TLS connection to Slack
// and drop it again. This one keeps enough for the bot's concurrency.
//
// Every attempt has deadlines, for the dial, the TLS handshake, the
// response header and the whole call: a Slack that accepts connections and
// never answers must not hang the bot.
func newHTTPClient(concurrency int, callTimeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(64, 4*concurrency)
	t.MaxIdleConnsPerHost = max(16, 4*concurrency)
	t.IdleConnTimeout = 90 * time.Second
	step := min(10*time.Second, callTimeout)
	t.DialContext = (&net.Dialer{Timeout: step, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = step
	t.ResponseHeaderTimeout = callTimeout
	return &http.Client{Transport: t, Timeout: callTimeout}
}
