package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
)

// Result is what one load test measured.
type Result struct {
	Users       int     `json:"users"`
	IAMLatency  string  `json:"iam_latency"`
	Tiers       bool    `json:"tiers"`
	IAMRate     float64 `json:"iam_rate,omitempty"`
	Concurrency int     `json:"concurrency"`
	BotProcess  string  `json:"bot_process"` // "child" or "in-process"
	Replicas    int     `json:"replicas"`
	Store       string  `json:"store"` // "sqlite" or "postgres"

	Ack      Latencies  `json:"ack"`
	Baseline *Latencies `json:"baseline_ack,omitempty"`
	// BaselineAnswers says the baseline acked with an answer, not bare.
	BaselineAnswers bool `json:"baseline_answers,omitempty"`
	// BaselineLast says the baselines ran after the bot's burst.
	BaselineLast bool `json:"baseline_last,omitempty"`
	// BaselineClients is how many bare clients shared the baseline's burst.
	BaselineClients int `json:"baseline_clients,omitempty"`
	// AckRatioP99 is the bot's ack p99 over the bare client's.
	AckRatioP99 float64 `json:"ack_ratio_p99,omitempty"`
	// RecordingBaseline is the baseline that records each command before
	// its ack (see recording.go), AckRatioRecordingP99 the bot's ack p99
	// over its.
	RecordingBaseline    *Latencies `json:"recording_baseline_ack,omitempty"`
	AckRatioRecordingP99 float64    `json:"ack_ratio_recording_p99,omitempty"`

	// LastPassword is from the first envelope sent to the last password
	// delivered; LastNotice to the last lasting "your password was reset" DM.
	LastPassword   Duration             `json:"time_to_last_password"`
	LastNotice     Duration             `json:"time_to_last_notice"`
	ResetsPerSec   float64              `json:"resets_per_second"`
	Delivered      int                  `json:"passwords_delivered"`
	IAMCalls       map[string]CallCount `json:"iam_calls"`
	SlackCalls     map[string]CallCount `json:"slack_calls"`
	IAMRateSeen    float64              `json:"iam_calls_per_second_seen,omitempty"`
	IAMMaxInSecond int                  `json:"iam_max_calls_in_any_second,omitempty"`
	Floor          *Floor               `json:"tier_floor,omitempty"`

	// IdleMemory and FinalMemory are of the replica with the largest
	// peak; PeakKiBByReplica has each one's.
	IdleMemory       Memory  `json:"idle_memory"`
	FinalMemory      Memory  `json:"final_memory"`
	PeakKiBByReplica []int64 `json:"peak_rss_kib_by_replica,omitempty"`

	Problems []string `json:"problems,omitempty"`
}

// CallCount counts the calls of one method or action by how they ended.
type CallCount struct {
	Total     int `json:"total"`
	OK        int `json:"ok"`
	Throttled int `json:"throttled,omitempty"` // Slack 429, IAM Throttling
}

// Duration is a time.Duration that encodes as seconds in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%.3f", time.Duration(d).Seconds()), nil
}

func (d Duration) String() string { return time.Duration(d).Round(time.Millisecond).String() }

func countSlack(calls []fakeslack.Call) map[string]CallCount {
	out := map[string]CallCount{}
	for _, c := range calls {
		cc := out[c.Method]
		cc.Total++
		switch {
		case c.Status == 429:
			cc.Throttled++
		case c.Status == 200 && c.Error == "":
			cc.OK++
		}
		out[c.Method] = cc
	}
	return out
}

func countIAM(calls []fakeaws.Call) map[string]CallCount {
	out := map[string]CallCount{}
	for _, c := range calls {
		cc := out[c.Action]
		cc.Total++
		switch {
		case c.Code == "Throttling":
			cc.Throttled++
		case c.Status == 200:
			cc.OK++
		}
		out[c.Action] = cc
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
