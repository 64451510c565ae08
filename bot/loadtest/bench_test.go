package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkBurst drives bursts of 100 slash commands through the real bot
// (in this process, against the fakes, IAM answering at once) and reports
// the time per burst and the bot's ack p99. Each burst starts a new bot,
// store and fakes, which the time includes:
//
//	go test -run '^$' -bench Burst -benchtime 5x ./bot/loadtest
func BenchmarkBurst(b *testing.B) {
	const users = 100
	var ackP99, resets float64
	for b.Loop() {
		res, err := Run(context.Background(), Options{Users: users, InProcess: true, NoBaseline: true,
			Idle: time.Millisecond, Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Problems) > 0 {
			b.Fatal(strings.Join(res.Problems, "\n"))
		}
		ackP99 += time.Duration(res.Ack.P99).Seconds() * 1000
		resets += res.ResetsPerSec
	}
	b.ReportMetric(ackP99/float64(b.N), "ack-p99-ms")
	b.ReportMetric(resets/float64(b.N), "resets/s")
}
