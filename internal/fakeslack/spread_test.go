package fakeslack

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frameReader reads conn's text frames, hello and disconnects included.
func frameReader(t *testing.T, conn *websocket.Conn) <-chan map[string]any {
	t.Helper()
	frames := make(chan map[string]any, 64)
	go func() {
		defer close(frames)
		for {
			var f map[string]any
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			frames <- f
		}
	}()
	return frames
}

// nextEnvelope returns the next frame on frames that carries an envelope.
func nextEnvelope(t *testing.T, frames <-chan map[string]any) map[string]any {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("connection closed before an envelope came")
			}
			if f["envelope_id"] != nil {
				return f
			}
		case <-timeout:
			t.Fatal("no envelope came")
		}
	}
}

// Envelopes go to each connection in turn; one not acked comes again on
// another connection, marked as a retry; clicks never come twice.
func TestSpreadAndRedeliver(t *testing.T) {
	s := newServer(t, Options{Spread: true, RedeliverAfter: 200 * time.Millisecond})
	ctx := testContext(t)
	var conns []*websocket.Conn
	var frames []<-chan map[string]any
	for range 3 {
		c, _ := dial(t, s)
		conns = append(conns, c)
		frames = append(frames, frameReader(t, c))
	}
	if err := s.WaitOpenConnections(ctx, 3); err != nil {
		t.Fatal(err)
	}
	ack := func(c *websocket.Conn, f map[string]any) {
		t.Helper()
		if err := c.WriteJSON(map[string]any{"envelope_id": f["envelope_id"]}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WaitAck(ctx, f["envelope_id"].(string)); err != nil {
			t.Fatal(err)
		}
	}

	// Three commands, one per connection; the first is never acked where it lands.
	var ids []string
	for range 3 {
		id, err := s.SlashCommand(ctx, SlashCommand{UserID: alice})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	got := map[string]int{} // envelope ID -> connection
	var unacked map[string]any
	for i := range 3 {
		f := nextEnvelope(t, frames[i])
		got[f["envelope_id"].(string)] = i
		if f["envelope_id"] == ids[0] {
			unacked = f
			continue
		}
		ack(conns[i], f)
	}
	if len(got) != 3 || unacked == nil {
		t.Fatalf("envelopes by connection = %v; want the 3 commands on 3 connections", got)
	}
	first := got[ids[0]]
	// The redelivery comes on another connection, the first one to come.
	var again map[string]any
	var on int
	others := [2]int{(first + 1) % 3, (first + 2) % 3}
	select {
	case again = <-frames[others[0]]:
		on = others[0]
	case again = <-frames[others[1]]:
		on = others[1]
	case <-time.After(testTimeout):
	}
	if again == nil || again["envelope_id"] != ids[0] || again["retry_attempt"] != float64(1) || again["retry_reason"] != "timeout" {
		t.Fatalf("redelivery = %v; want %s again with retry_attempt 1, retry_reason timeout", again, ids[0])
	}
	ack(conns[on], again)
	if n := s.Deliveries(ids[0]); n != 2 {
		t.Errorf("Deliveries(unacked) = %d; want 2", n)
	}
	if r := s.Redelivered(); len(r) != 1 || r[0] != ids[0] {
		t.Errorf("Redelivered() = %v; want [%s]", r, ids[0])
	}

	// A click lands on each of two connections at once, and is not redelivered unacked.
	clicks, err := s.BlockActionOnEach(ctx, BlockAction{UserID: alice, ActionID: "approve", BlockID: "b", ChannelID: "C1", MessageTS: "1.000001"}, 2)
	if err != nil || len(clicks) != 2 || clicks[0] == clicks[1] {
		t.Fatalf("BlockActionOnEach() = %v, %v; want two envelopes", clicks, err)
	}
	for i, id := range clicks {
		if n := s.Deliveries(id); n != 0 {
			t.Errorf("click %d counted as sent %d times by the redeliverer; want 0 (never retried)", i, n)
		}
	}
}

// An app holds at most ten connections: the eleventh is told
// too_many_websockets and closed.
func TestTooManyWebsockets(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testContext(t)
	for range MaxConnections {
		dial(t, s)
	}
	if err := s.WaitOpenConnections(ctx, MaxConnections); err != nil {
		t.Fatal(err)
	}
	c, _ := dial(t, s)
	frames := frameReader(t, c)
	var reason any
	for f := range frames {
		if f["type"] == "disconnect" {
			reason = f["reason"]
		}
	}
	if reason != "too_many_websockets" {
		t.Errorf("11th connection's disconnect reason = %v; want too_many_websockets", reason)
	}
	if n := s.OpenConnections(); n != MaxConnections {
		t.Errorf("OpenConnections() = %d; want %d", n, MaxConnections)
	}
}
