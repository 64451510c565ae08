package slackbot

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// The pool runs at most n items at once, each exactly once, and drops,
// uncalled, an item whose context ended while it waited.
func TestPoolBound(t *testing.T) {
	const n, items = 3, 50
	var wg sync.WaitGroup
	p := &pool{n: n, wg: &wg}
	var running, most, ran atomic.Int32
	gate := make(chan struct{})
	for range items {
		p.do(context.Background(), func(context.Context) {
			now := running.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			<-gate
			ran.Add(1)
			running.Add(-1)
		})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var dropped atomic.Bool
	p.do(cancelled, func(context.Context) { dropped.Store(true) })
	close(gate)
	wg.Wait()

	if m := most.Load(); m > n || m < 1 {
		t.Errorf("at most %d items ran at once; want 1 to %d", m, n)
	}
	if r := ran.Load(); r != items {
		t.Errorf("%d items ran; want %d", r, items)
	}
	if dropped.Load() {
		t.Error("an item whose context had ended ran")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) != 0 {
		t.Errorf("after the work: %d queued; want none", len(p.queue))
	}
}

// Waiting items are taken oldest first.
func TestPoolOrder(t *testing.T) {
	var wg sync.WaitGroup
	p := &pool{n: 1, wg: &wg}
	gate := make(chan struct{})
	var order []int // one worker: no lock needed beyond the pool's own
	for i := range 20 {
		p.do(context.Background(), func(context.Context) {
			if i == 0 {
				<-gate // the rest queue behind the first
			}
			order = append(order, i)
		})
	}
	close(gate)
	wg.Wait()
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}; !slices.Equal(order, want) {
		t.Errorf("order = %v; want %v", order, want)
	}
}
