package slackbot

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Each replica paces a throttled method at its share of the tier, and the
// share follows the live count both ways.
func TestPacerShare(t *testing.T) {
	now := time.Unix(0, 0)
	p := newPacer(map[string]int{"chat.postEphemeral": 120, "users.info": 60}, func() time.Time { return now })
	p.throttled("chat.postEphemeral", time.Second)
	for _, tt := range []struct {
		replicas int
		method   string
		want     rate.Limit // per second
	}{
		{1, "chat.postEphemeral", 2},
		{3, "chat.postEphemeral", 2.0 / 3},
		{3, "users.info", 1.0 / 3}, // paced later, at the share in force
		{0, "chat.postEphemeral", 2},
		{2, "users.info", 0.5},
	} {
		p.setShare(tt.replicas)
		if tt.method == "users.info" {
			p.throttled("users.info", time.Second)
		}
		p.mu.Lock()
		got := p.methods[tt.method].limiter.Limit()
		admits := p.admits.Limit()
		p.mu.Unlock()
		if diff := float64(got - tt.want); diff > 1e-9 || diff < -1e-9 {
			t.Errorf("setShare(%d): %s paced at %v/s; want %v/s", tt.replicas, tt.method, got, tt.want)
		}
		if admits > got {
			t.Errorf("setShare(%d): admitting %v/s, faster than %s's %v/s", tt.replicas, admits, tt.method, got)
		}
	}
}
