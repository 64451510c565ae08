package slackbot

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// ClientOptions configures the Web API client.
type ClientOptions struct {
	APIURL     string // slack.api_url
	Secrets    config.Secrets
	Metrics    *metrics.Metrics // may be nil
	HTTPClient *http.Client     // default newHTTPClient(Concurrency)
	// Concurrency sizes the default HTTP client's connection pool.
	Concurrency int
	// CallTimeout bounds each attempt of a Web API call with the default
	// HTTP client; default 30s.
	CallTimeout time.Duration
	// Retry overrides how Web API calls are retried; tests shorten it.
	Retry *slack.RetryConfig
	// Limits are the per-minute limits a Web API method is paced at once
	// Slack has throttled it; nil means Slack's published tiers. Tests
	// raise them.
	Limits map[string]int
	Now    func() time.Time // default time.Now
}

// Client talks to the Slack Web API: pooled connections, slack-go's
// retries of 5xx and connection errors, pacing at Slack's limits (pace.go)
// and a metric for every attempt (deliver.go). It is the workflow's
// Messenger.
type Client struct {
	api  *slack.Client
	pace *pacer
}

var _ workflow.Messenger = (*Client)(nil)

// NewClient builds a Client. It makes no network call.
func NewClient(opts ClientOptions) *Client {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = newHTTPClient(opts.Concurrency, opts.CallTimeout)
	}
	retry := slack.RetryConfig{
		MaxRetries:         5,
		RetryAfterDuration: 5 * time.Second,
		RetryAfterJitter:   500 * time.Millisecond,
		BackoffInitial:     200 * time.Millisecond,
		BackoffMax:         5 * time.Second,
		BackoffJitter:      100 * time.Millisecond,
	}
	if opts.Retry != nil {
		retry = *opts.Retry
	}
	retry.Handlers = []slack.RetryHandler{
		slack.NewConnectionErrorRetryHandler(),
		slack.NewRateLimitErrorRetryHandler(retry),
		slack.NewServerErrorRetryHandler(retry),
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pace := newPacer(opts.Limits, opts.Now)
	api := slack.New(opts.Secrets.BotToken,
		slack.OptionAPIURL(opts.APIURL),
		slack.OptionAppLevelToken(opts.Secrets.AppToken),
		slack.OptionHTTPClient(&pacedClient{next: &measuredClient{client: opts.HTTPClient, metrics: opts.Metrics}, pace: pace}),
		slack.OptionRetryConfig(retry),
	)
	return &Client{api: api, pace: pace}
}

// WhoAmI is auth.test: who the bot is.
func (c *Client) WhoAmI(ctx context.Context) (workflow.Identity, string, error) {
	auth, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return workflow.Identity{}, "", err
	}
	return workflow.Identity{TeamID: auth.TeamID, EnterpriseID: auth.EnterpriseID, UserID: auth.UserID, BotID: auth.BotID}, auth.Team, nil
}

// OpenDM opens (or finds) the bot's DM with a user: conversations.open.
func (c *Client) OpenDM(ctx context.Context, userID string) (string, error) {
	ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", err
	}
	return ch.ID, nil
}

// Post is chat.postMessage.
func (c *Client) Post(ctx context.Context, channel string, m slacktext.Message) (string, error) {
	_, ts, err := c.api.PostMessageContext(ctx, channel, m.Options()...)
	return ts, err
}

// Ephemeral is chat.postEphemeral.
func (c *Client) Ephemeral(ctx context.Context, channel, userID string, m slacktext.Message) error {
	_, err := c.api.PostEphemeralContext(ctx, channel, userID, m.Options()...)
	return err
}

// Update is chat.update.
func (c *Client) Update(ctx context.Context, channel, ts string, m slacktext.Message) error {
	_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, m.Options()...)
	return err
}

// UserInfo is users.info, read into what the workflow needs.
func (c *Client) UserInfo(ctx context.Context, userID string) (workflow.Person, error) {
	u, err := c.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return workflow.Person{}, err
	}
	if u == nil {
		return workflow.Person{}, errors.New("users.info: no user in the answer")
	}
	return workflow.Person{
		ID: u.ID, TeamID: u.TeamID, EnterpriseID: u.Enterprise.EnterpriseID,
		Deleted: u.Deleted,
		Bot:     u.IsBot || u.IsAppUser || u.ID == "USLACKBOT",
		Guest:   u.IsRestricted || u.IsUltraRestricted,
	}, nil
}

// GroupMembers is usergroups.users.list.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	return c.api.GetUserGroupMembersContext(ctx, groupID)
}
