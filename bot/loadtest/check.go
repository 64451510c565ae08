package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
)

// What the bot's messages say, to tell them apart.
const (
	passwordText = "temporary AWS console password" // the ephemeral message's fallback text
	noticeText   = "If this wasn't you"             // the lasting notice
)

// Latencies summarises a set of durations.
type Latencies struct {
	N   int      `json:"n"`
	P50 Duration `json:"p50"`
	P99 Duration `json:"p99"`
	Max Duration `json:"max"`
	// CPUStolen is the share of the machine's CPU time the host took
	// back while these acks were awaited (see steal.go); 0 where unknown.
	CPUStolen float64 `json:"cpu_stolen,omitempty"`
	// CPUBusy is the CPU time the whole machine spent meanwhile.
	CPUBusy Duration `json:"cpu_busy,omitempty"`
}

// Summarize returns the nearest-rank p50, p99 and maximum of d.
func Summarize(d []time.Duration) Latencies {
	if len(d) == 0 {
		return Latencies{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return Latencies{N: len(s), P50: Duration(rank(s, 0.50)), P99: Duration(rank(s, 0.99)), Max: Duration(s[len(s)-1])}
}

// rank is the nearest-rank p-th percentile of sorted, which is not empty.
func rank[T cmp.Ordered](sorted []T, p float64) T {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// AllowedPerSecond is how many calls a limit of perSecond allows in any
// one-second window.
func AllowedPerSecond(perSecond float64) int { return max(1, int(math.Ceil(perSecond))) }

// RateSeen returns the most calls in any window of the given width
// (half-open, starting at a call) and the average rate from the first call
// to the last.
func RateSeen(times []time.Time, window time.Duration) (maxInWindow int, perSecond float64) {
	if len(times) == 0 {
		return 0, 0
	}
	t := slices.Clone(times)
	slices.SortFunc(t, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	for i := range t {
		for j < len(t) && t[j].Sub(t[i]) < window {
			j++
		}
		maxInWindow = max(maxInWindow, j-i)
	}
	if span := t[len(t)-1].Sub(t[0]); span > 0 {
		perSecond = float64(len(t)-1) / span.Seconds()
	}
	return maxInWindow, perSecond
}

// Floor is the least time Slack's per-method limits allow for the calls
// the bot made: a limit of L a minute lets the first L calls through at
// once and each further L a minute later, so c calls need
// floor((c-1)/L) minutes.
type Floor struct {
	Method          string             `json:"method"` // the method that sets the floor
	Time            Duration           `json:"time"`
	CallsPerRequest map[string]float64 `json:"calls_per_request"`
}

// TierFloor computes the floor for the successful calls in counts.
func TierFloor(limits map[string]int, counts map[string]CallCount, requests int) Floor {
	f := Floor{CallsPerRequest: map[string]float64{}}
	for _, m := range sortedKeys(counts) {
		c := counts[m].OK
		f.CallsPerRequest[m] = math.Round(100*float64(c)/float64(requests)) / 100
		l, ok := limits[m]
		if !ok || l <= 0 || c == 0 {
			continue
		}
		if t := Duration(time.Duration((c-1)/l) * time.Minute); t > f.Time || f.Method == "" {
			f.Method, f.Time = m, t
		}
	}
	return f
}

// Outcome is what Check found.
type Outcome struct {
	Delivered    int
	LastPassword time.Time // when the last password message was posted
	LastNotice   time.Time
	Problems     []string
}

var backticked = regexp.MustCompile("`([^`\n]+)`")

// Check verifies, for every person, that IAM set exactly one password for
// their IAM user, that exactly one ephemeral message to them carries it,
// in their DM with the bot, that it is in no other message, and that they
// got exactly one lasting notice. Anyone not listed must be untouched.
func Check(people []Person, msgs []fakeslack.Message, iam *fakeaws.Server) Outcome {
	var out Outcome
	problem := func(format string, args ...any) {
		if len(out.Problems) < 20 {
			out.Problems = append(out.Problems, fmt.Sprintf(format, args...))
		} else if len(out.Problems) == 20 {
			out.Problems = append(out.Problems, "… more problems left out")
		}
	}
	listed := map[string]Person{}
	for _, p := range people {
		listed[p.IAMUser] = p
	}
	resets := map[string]int{}
	for _, c := range iam.Calls("UpdateLoginProfile") {
		if c.Status != 200 {
			continue
		}
		name := c.Params.Get("UserName")
		if _, ok := listed[name]; !ok {
			problem("IAM user %s, who is not listed, was reset", name)
		}
		resets[name]++
	}

	owner := map[string]string{} // password -> Slack user it belongs to
	for _, p := range people {
		if n := resets[p.IAMUser]; n != 1 {
			problem("%s was reset %d times; want exactly once", p.IAMUser, n)
		}
		if prof, ok := iam.LoginProfile(p.IAMUser); ok && prof.Password != "" {
			owner[prof.Password] = p.SlackUser
		}
	}

	got := map[string]int{}
	notices := map[string]int{}
	for _, m := range msgs {
		at := parseTS(m.TS)
		isPassword := m.Ephemeral && strings.Contains(m.Text, passwordText)
		if isPassword {
			got[m.User]++
			out.Delivered++
			out.LastPassword = later(out.LastPassword, at)
			if m.Channel != fakeslack.DMChannel(m.User) {
				problem("the password of %s went to channel %s, not their DM", m.User, m.Channel)
			}
		}
		if !m.Ephemeral && strings.Contains(m.Text, noticeText) {
			notices[m.Channel]++
			out.LastNotice = later(out.LastNotice, at)
		}
		spans := passwordsIn(m)
		if isPassword {
			pw := shownPassword(m)
			if who, ok := owner[pw]; !ok || who != m.User {
				problem("%s was shown a password IAM does not hold for them", m.User)
			}
		}
		for _, span := range spans {
			if who, ok := owner[span]; ok && (!isPassword || who != m.User) {
				problem("the password of %s appears in a message in %s", who, m.Channel)
			}
		}
	}
	for _, p := range people {
		if n := got[p.SlackUser]; n != 1 {
			problem("%s got %d password messages; want exactly one", p.SlackUser, n)
		}
		if n := notices[fakeslack.DMChannel(p.SlackUser)]; n != 1 {
			problem("%s got %d reset notices; want exactly one", p.SlackUser, n)
		}
	}
	return out
}

var passwordInBlock = regexp.MustCompile("\n\n`([^`]+)`\n\n")

// shownPassword is the password a password message shows, where the bot
// puts it: on a line of its own in the first block.
func shownPassword(m fakeslack.Message) string {
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return ""
	}
	for _, b := range blocks {
		if sm := passwordInBlock.FindStringSubmatch(b.Text.Text); sm != nil {
			return sm[1]
		}
	}
	return ""
}

// passwordsIn returns every backticked span of a message's text and
// blocks, where a password would be.
func passwordsIn(m fakeslack.Message) []string {
	texts := []string{m.Text}
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	if json.Unmarshal(m.Blocks, &blocks) == nil {
		for _, b := range blocks {
			texts = append(texts, b.Text.Text)
		}
	}
	var out []string
	for _, t := range texts {
		for _, sm := range backticked.FindAllStringSubmatch(t, -1) {
			out = append(out, sm[1])
		}
	}
	return out
}

// parseTS reads a Slack message timestamp ("1700000000.000100").
func parseTS(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}
	}
	return time.Unix(s, us*1000)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
