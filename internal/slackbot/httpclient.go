package slackbot

import (
	"net/http"
	"time"
)

// newHTTPClient is the default client for the Slack Web API: Go's default
// transport keeps two idle connections per host, so with more calls than
// that in flight each further call would open a TLS connection to Slack
// and drop it again. This one keeps enough for the bot's concurrency.
func newHTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(64, 4*concurrency)
	t.MaxIdleConnsPerHost = max(16, 4*concurrency)
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}
