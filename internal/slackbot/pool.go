package slackbot

import (
	"context"
	"sync"
)

// pool runs work with at most n items at once, in the order given. Work
// beyond n waits in a queue rather than in a goroutine of its own: a burst
// of thousands of commands then costs a slice entry apiece while it waits,
// not a goroutine's stack.
type pool struct {
	n  int
	wg *sync.WaitGroup // Add for each item given, Done when it has run or been dropped

	mu      sync.Mutex
	running int // workers
	queue   []poolItem
}

type poolItem struct {
	ctx context.Context
	f   func(context.Context)
}

// do runs f(ctx) once a worker is free, unless ctx has ended by then.
func (p *pool) do(ctx context.Context, f func(context.Context)) {
	p.wg.Add(1)
	it := poolItem{ctx: ctx, f: f}
	p.mu.Lock()
	if p.running < p.n {
		p.running++
		p.mu.Unlock()
		go p.work(it)
		return
	}
	p.queue = append(p.queue, it)
	p.mu.Unlock()
}

// work runs it, then whatever is queued, until the queue is empty.
func (p *pool) work(it poolItem) {
	for {
		if it.ctx.Err() == nil {
			it.f(it.ctx)
		}
		p.wg.Done()
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running--
			p.queue = nil // let a burst's backing array go
			p.mu.Unlock()
			return
		}
		it = p.queue[0]
		p.queue[0] = poolItem{}
		p.queue = p.queue[1:]
		p.mu.Unlock()
	}
}
