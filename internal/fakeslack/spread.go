package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Slack hands each envelope to any one of an app's Socket Mode connections (up to ten), and
// may send one that was not acked in time again, on another connection. With Options.Spread
// and Options.RedeliverAfter the fake does the same, so several replicas of a bot, each with
// its own connection, share the work as they would on Slack.

// refuseConn tells an 11th connection why it is closed, as Slack does.
func refuseConn(c *wsConn) {
	msg, _ := json.Marshal(map[string]any{
		"type":       "disconnect",
		"reason":     "too_many_websockets",
		"debug_info": map[string]any{"host": debugHost},
	})
	_ = c.writeText(msg)
	c.shutdown(true)
}

// sendSpread writes the frame of envelope id on the next open connection in turn other than
// avoid (unless it is the only one), waiting within ctx for one, and returns the connection
// used. The delivery is counted before the write, so a client that acks at once never sees
// Deliveries lag behind. A write that fails drops that connection and tries the next.
func (s *Server) sendSpread(ctx context.Context, id string, frame []byte, avoid *wsConn) (*wsConn, error) {
	for {
		var c *wsConn
		err := s.await(ctx, "socket mode connection", func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			c = s.pickLocked(avoid)
			if c != nil {
				s.sentOn[id]++
			}
			return c != nil
		})
		if err != nil {
			return nil, err
		}
		if err := c.writeText(frame); err != nil {
			s.log.Debug("socket mode write failed; trying another connection", "error", err)
			s.mu.Lock()
			s.sentOn[id]--
			s.mu.Unlock()
			s.dropConn(c)
			continue
		}
		return c, nil
	}
}

// pickLocked chooses the connection for the next envelope: with Spread, each in turn; else
// the newest. avoid is skipped when another is open.
func (s *Server) pickLocked(avoid *wsConn) *wsConn {
	if len(s.conns) == 0 {
		return nil
	}
	if !s.opts.Spread {
		if c := s.newestConnLocked(); c != avoid || len(s.conns) == 1 {
			return c
		}
		return s.conns[len(s.conns)-2]
	}
	for range len(s.conns) {
		s.next = (s.next + 1) % len(s.conns)
		if c := s.conns[s.next]; c != avoid || len(s.conns) == 1 {
			return c
		}
	}
	return nil
}

// watchAck, with RedeliverAfter, sends e again on another connection while it goes unacked,
// up to MaxRetries times. It never blocks the caller.
func (s *Server) watchAck(e Envelope, on *wsConn) {
	s.mu.Lock()
	closed := s.closed
	if s.opts.RedeliverAfter <= 0 || e.Type == "interactive" || e.RetryAttempt >= MaxRetries || closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		timer := time.NewTimer(s.opts.RedeliverAfter)
		defer timer.Stop()
		for {
			s.mu.Lock()
			acked, closed, ch := s.acked[e.EnvelopeID], s.closed, s.changed
			s.mu.Unlock()
			if acked || closed {
				return
			}
			select {
			case <-ch:
				continue
			case <-timer.C:
			}
			break
		}
		e.RetryAttempt++
		e.RetryReason = "timeout"
		frame, err := json.Marshal(e)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		c, err := s.sendSpread(ctx, e.EnvelopeID, frame, on)
		if err != nil {
			s.log.Debug("redelivery failed", "envelope_id", e.EnvelopeID, "error", err)
			return
		}
		s.watchAck(e, c)
	}()
}

// Deliveries is how many times the envelope went out (1 + its redeliveries), for envelopes
// sent with Spread or RedeliverAfter.
func (s *Server) Deliveries(envelopeID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentOn[envelopeID]
}

// Redelivered lists the envelopes sent more than once, for envelopes sent with Spread or
// RedeliverAfter.
func (s *Server) Redelivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, n := range s.sentOn {
		if n > 1 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// BlockActionOnEach sends the click a on each of n distinct open connections at the same
// instant (as n envelopes, as n quick clicks on one button landing on n replicas), waiting
// within ctx for n connections to be open. It returns the envelope IDs.
func (s *Server) BlockActionOnEach(ctx context.Context, a BlockAction, n int) ([]string, error) {
	if err := s.await(ctx, fmt.Sprintf("%d open connections", n), func() bool { return s.OpenConnections() >= n }); err != nil {
		return nil, err
	}
	frames := make([][]byte, n)
	ids := make([]string, n)
	for i := range n {
		e, err := s.blockActionEnvelope(a)
		if err != nil {
			return nil, err
		}
		ids[i] = e.EnvelopeID
		if frames[i], err = json.Marshal(e); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	conns := slices.Clone(s.conns)
	s.mu.Unlock()
	if len(conns) < n {
		return nil, fmt.Errorf("send click on %d connections: %d open", n, len(conns))
	}
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs <- conns[i].writeText(frames[i])
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			return ids, fmt.Errorf("send click: %w", err)
		}
	}
	return ids, nil
}
