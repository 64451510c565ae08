package main

import (
	"testing"
	"time"
)

func TestParseCPUTimes(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want cpuTimes
		ok   bool
	}{
		{"with steal and guest",
			"cpu  36773 5 7335 438239 583 1 736 29203 11 0\ncpu0 18732 0 3747 218610 390 0 373 14607 0 0\nintr 1\n",
			cpuTimes{busy: 36773 + 5 + 7335 + 1 + 736, idle: 438239 + 583, steal: 29203}, true},
		{"no steal field (old kernel)", "cpu  1 2 3 4 5 6 7\n", cpuTimes{}, false},
		{"per-CPU lines only", "cpu0 1 2 3 4 5 6 7 8\n", cpuTimes{}, false},
		{"garbage", "cpu  1 2 x 4 5 6 7 8\n", cpuTimes{}, false},
		{"empty", "", cpuTimes{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseCPUTimes([]byte(tt.stat))
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseCPUTimes() = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestStolenShare(t *testing.T) {
	a := cpuTimes{busy: 100, idle: 100, steal: 100}
	b := cpuTimes{busy: 150, idle: 130, steal: 120}
	if got := stolenShare(a, b); got != 0.2 {
		t.Errorf("stolenShare() = %v; want 0.2 (20 stolen of 100 ticks)", got)
	}
	if got := busyTime(a, b); got != 500*time.Millisecond {
		t.Errorf("busyTime() = %v; want 500ms (50 ticks)", got)
	}
	if got := stolenShare(a, a); got != 0 {
		t.Errorf("stolenShare() with no time passed = %v; want 0", got)
	}
}
