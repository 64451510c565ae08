// Package metrics defines the bot's Prometheus metrics. A *Metrics is
// registered on a registry passed in (never the global one), and a nil
// *Metrics is valid and records nothing, so tests and tools can skip it.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds every metric the bot exports.
type Metrics struct {
	commands       *prometheus.CounterVec
	ackLatency     prometheus.Histogram
	ackRecord      prometheus.Histogram
	resets         *prometheus.CounterVec
	decisions      *prometheus.CounterVec
	slackCalls     *prometheus.HistogramVec
	slackRetries   *prometheus.CounterVec
	iamCalls       *prometheus.HistogramVec
	iamRetries     *prometheus.CounterVec
	reconnects     prometheus.Counter
	connected      prometheus.Gauge
	remindersSent  *prometheus.CounterVec
	expiringWithin *prometheus.GaugeVec
	replicas       prometheus.Gauge
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "awsreset_commands_received_total",
			Help: "Slash commands and interactions received, by kind.",
		}, []string{"kind"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "awsreset_ack_latency_seconds",
			Help:    "Time from reading a Socket Mode envelope to handing its ack to the socket.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		ackRecord: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "awsreset_ack_record_seconds",
			Help:    "With several replicas: time a batch of commands waited for its record in the database before its acks went out.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "awsreset_resets_total",
			Help: "Reset requests by how they ended (delivered, refused, no_login_profile, ...) and AWS account (aws.accounts[].name; \"\" = the bot's own).",
		}, []string{"outcome", "account"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "awsreset_approval_decisions_total",
			Help: "Approval decisions: approved, denied, expired.",
		}, []string{"decision"}),
		slackCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "awsreset_slack_call_duration_seconds",
			Help:    "Slack Web API calls (each HTTP attempt), by method and HTTP status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "status"}),
		slackRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "awsreset_slack_retries_total",
			Help: "Slack Web API attempts answered 429 or 5xx (and so retried or failed), by method.",
		}, []string{"method"}),
		iamCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "awsreset_iam_call_duration_seconds",
			Help:    "IAM and STS calls (retries included), by action, result and AWS account (\"\" = the bot's own).",
			Buckets: prometheus.DefBuckets,
		}, []string{"action", "result", "account"}),
		iamRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "awsreset_iam_retries_total",
			Help: "IAM attempts that were retried, by action and AWS account.",
		}, []string{"action", "account"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "awsreset_socket_reconnects_total",
			Help: "Socket Mode connections made after the first.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "awsreset_socket_connected",
			Help: "1 while the Socket Mode connection is up.",
		}),
		remindersSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "awsreset_reminders_sent_total",
			Help: "Password expiry reminders sent, by threshold in days (0 = already expired).",
		}, []string{"days"}),
		expiringWithin: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "awsreset_users_expiring_within_7d",
			Help: "Listed users whose console password expires within 7 days, at the last reminder run, by AWS account (\"\" = the bot's own).",
		}, []string{"account"}),
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "awsreset_replicas",
			Help: "Replicas of the bot alive at this one's last heartbeat, itself included; each paces Slack calls at its share.",
		}),
	}
	reg.MustRegister(m.commands, m.ackLatency, m.ackRecord, m.resets, m.decisions, m.slackCalls, m.slackRetries,
		m.iamCalls, m.iamRetries, m.reconnects, m.connected, m.remindersSent, m.expiringWithin, m.replicas)
	return m
}

// Command counts a received command or interaction.
func (m *Metrics) Command(kind string) {
	if m != nil {
		m.commands.WithLabelValues(kind).Inc()
	}
}

// Ack records how long an ack took.
func (m *Metrics) Ack(d time.Duration) {
	if m != nil {
		m.ackLatency.Observe(d.Seconds())
	}
}

// AckRecord records how long a batch of commands waited for its record
// before its acks.
func (m *Metrics) AckRecord(d time.Duration) {
	if m != nil {
		m.ackRecord.Observe(d.Seconds())
	}
}

// Reset counts a request's outcome in the bot's own account.
func (m *Metrics) Reset(outcome string) { m.ResetIn("", outcome) }

// ResetIn counts a request's outcome in an account (aws.accounts[].name,
// "" for the bot's own). Only configured names reach it, so the label is
// bounded.
func (m *Metrics) ResetIn(account, outcome string) {
	if m != nil {
		m.resets.WithLabelValues(outcome, account).Inc()
	}
}

// Decision counts an approval decision.
func (m *Metrics) Decision(decision string) {
	if m != nil {
		m.decisions.WithLabelValues(decision).Inc()
	}
}

// SlackCall records one HTTP attempt at a Slack method.
func (m *Metrics) SlackCall(method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.slackCalls.WithLabelValues(method, strconv.Itoa(status)).Observe(d.Seconds())
	if status == http.StatusTooManyRequests || status >= 500 {
		m.slackRetries.WithLabelValues(method).Inc()
	}
}

// IAMCall records one IAM or STS call in an account ("" = the bot's own).
func (m *Metrics) IAMCall(account, action, result string, d time.Duration, retries int) {
	if m == nil {
		return
	}
	m.iamCalls.WithLabelValues(action, result, account).Observe(d.Seconds())
	if retries > 0 {
		m.iamRetries.WithLabelValues(action, account).Add(float64(retries))
	}
}

// Connected records the Socket Mode connection going up or down; reconnect
// says an up is not the first.
func (m *Metrics) Connected(up, reconnect bool) {
	if m == nil {
		return
	}
	if up {
		m.connected.Set(1)
		if reconnect {
			m.reconnects.Inc()
		}
		return
	}
	m.connected.Set(0)
}

// ReminderSent counts a reminder.
func (m *Metrics) ReminderSent(days int) {
	if m != nil {
		m.remindersSent.WithLabelValues(strconv.Itoa(days)).Inc()
	}
}

// ExpiringSoon sets how many listed users of the bot's own account expire
// within 7 days.
func (m *Metrics) ExpiringSoon(n int) { m.ExpiringSoonIn("", n) }

// ExpiringSoonIn sets how many listed users of an account expire within 7
// days; each account's reminders set their own.
func (m *Metrics) ExpiringSoonIn(account string, n int) {
	if m != nil {
		m.expiringWithin.WithLabelValues(account).Set(float64(n))
	}
}

// Replicas sets how many replicas of the bot are alive.
func (m *Metrics) Replicas(n int) {
	if m != nil {
		m.replicas.Set(float64(n))
	}
}
