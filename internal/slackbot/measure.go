package slackbot

import (
	"net/http"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
)

// measuredClient times every HTTP attempt at the Slack Web API; the retry
// wrapper sits above it, so each retry is seen.
type measuredClient struct {
	client  *http.Client
	metrics *metrics.Metrics
}

func (c *measuredClient) Do(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := c.client.Do(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	method := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	c.metrics.SlackCall(method, status, time.Since(start))
	return resp, err
}
