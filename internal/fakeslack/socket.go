package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds each websocket write, so a stuck client cannot stall the fake.
const writeTimeout = 5 * time.Second

// maxAckSize is the size from which Slack silently drops a Socket Mode response (20 KB).
const maxAckSize = 20 * 1024

// debugHost is the applink host name the fake reports in debug_info.
const debugHost = "applink-fakeslack"

// Ack is a Socket Mode acknowledgement the client sent.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's "payload" field; nil when it had none (or null).
	Payload json.RawMessage
	At      time.Time
	// Conn is the number of the connection it came on (1 for the first accepted); see
	// OpenConnectionIDs.
	Conn int
}

// wsConn is one accepted Socket Mode connection.
type wsConn struct {
	id   int // 1 for the first connection accepted, and so on
	ws   *websocket.Conn
	wmu  sync.Mutex // serialises data frames; control frames may be written concurrently
	done chan struct{}
	once sync.Once
}

func (c *wsConn) writeText(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// shutdown closes the connection once; graceful sends a close frame first.
func (c *wsConn) shutdown(graceful bool) {
	c.once.Do(func() {
		close(c.done)
		if graceful {
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closing")
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		}
		_ = c.ws.Close() // closes the network connection, no close frame
	})
}

var upgrader = websocket.Upgrader{
	// slack-go sends "Origin: https://api.slack.com", which is not this host.
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveSocket accepts a websocket connection that presents an unused ticket from
// apps.connections.open, greets it with hello, and starts its reader and pinger.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid, closed := s.tickets[ticket], s.closed
	delete(s.tickets, ticket)
	num := len(s.conns) + 1
	s.mu.Unlock()
	switch {
	case closed:
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	case !valid:
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "error", err)
		return // the upgrader has answered
	}
	c := &wsConn{ws: ws, done: make(chan struct{})}

	// hello goes out before the connection is registered, so no envelope can precede it.
	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": num,
		"debug_info": map[string]any{
			"host":                        debugHost,
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": AppID},
	})
	if err := c.writeText(hello); err != nil {
		s.log.Debug("write hello failed", "error", err)
		c.shutdown(false)
		return
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.shutdown(true)
		return
	}
	if len(s.conns) >= MaxConnections {
		s.mu.Unlock()
		refuseConn(c)
		return
	}
	s.conns = append(s.conns, c)
	s.connCount++
	c.id = s.connCount
	s.wg.Add(2)
	s.notifyLocked()
	s.mu.Unlock()

	go s.readLoop(c)
	go s.pingLoop(c)
}

// readLoop records the acks arriving on c until the connection fails, then forgets c.
func (s *Server) readLoop(c *wsConn) {
	defer s.wg.Done()
	defer s.dropConn(c)
	for {
		typ, data, err := c.ws.ReadMessage()
		at := s.now() // the ack's arrival, before parsing it and waiting for the lock
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			s.handleClientFrame(c, data, at)
		}
	}
}

func (s *Server) handleClientFrame(c *wsConn, data []byte, at time.Time) {
	if len(data) >= maxAckSize {
		s.log.Debug("dropped oversized socket mode response", "bytes", len(data))
		return
	}
	var frame struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &frame); err != nil || frame.EnvelopeID == "" {
		s.log.Debug("ignored socket mode frame without envelope_id", "bytes", len(data))
		return
	}
	if string(frame.Payload) == "null" {
		frame.Payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks = append(s.acks, Ack{EnvelopeID: frame.EnvelopeID, Payload: frame.Payload, At: at, Conn: c.id})
	s.acked[frame.EnvelopeID] = true
	s.notifyLocked()
}

// pingLoop sends a PING right away and then every PingInterval, as Slack does; slack-go drops
// a connection that goes a ping interval without one.
func (s *Server) pingLoop(c *wsConn) {
	defer s.wg.Done()
	if s.opts.PingInterval < 0 {
		<-c.done
		return
	}
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(writeTimeout))
		if err != nil {
			s.dropConn(c)
			return
		}
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// dropConn forgets c and closes it without a close frame. It is idempotent.
func (s *Server) dropConn(c *wsConn) {
	s.mu.Lock()
	if i := slices.Index(s.conns, c); i >= 0 {
		s.conns = slices.Delete(s.conns, i, i+1)
		s.notifyLocked()
	}
	s.mu.Unlock()
	c.shutdown(false)
}

// WaitConnected waits until a Socket Mode client is connected.
func (s *Server) WaitConnected(ctx context.Context) error {
	return s.await(ctx, "socket mode connection", s.Connected)
}

// WaitConnectionCount waits until at least n connections have been accepted in total (see
// ConnectionCount), e.g. for a reconnection after Disconnect.
func (s *Server) WaitConnectionCount(ctx context.Context, n int) error {
	return s.await(ctx, fmt.Sprintf("connection #%d", n), func() bool { return s.ConnectionCount() >= n })
}

// Connected reports whether a Socket Mode client is connected now.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) > 0
}

// OpenConnections is the number of Socket Mode connections open now. After a refresh the
// old connection stays open until the client closes it, a moment after the new one is up.
func (s *Server) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitOpenConnections waits until exactly n Socket Mode connections are open, e.g. for the
// client to close the old connection after a refresh.
func (s *Server) WaitOpenConnections(ctx context.Context, n int) error {
	return s.await(ctx, fmt.Sprintf("%d open connection(s)", n), func() bool { return s.OpenConnections() == n })
}

// OpenConnectionIDs lists the numbers of the open connections (see Ack.Conn), oldest first.
func (s *Server) OpenConnectionIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, len(s.conns))
	for i, c := range s.conns {
		ids[i] = c.id
	}
	return ids
}

// ConnectionCount is the number of websocket connections accepted so far.
func (s *Server) ConnectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connCount
}

// FailConnectionsOpen makes the next n apps.connections.open calls (with a valid app token)
// answer HTTP 200 {"ok":false,"error":"internal_error"}, which slack-go retries with backoff.
func (s *Server) FailConnectionsOpen(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failOpens += n
}

// newestConnLocked returns the newest open connection, or nil.
func (s *Server) newestConnLocked() *wsConn {
	if len(s.conns) == 0 {
		return nil
	}
	return s.conns[len(s.conns)-1]
}

// currentConn waits for a connection and returns the newest.
func (s *Server) currentConn(ctx context.Context) (*wsConn, error) {
	var c *wsConn
	err := s.await(ctx, "socket mode connection", func() bool {
		c = locked(s, s.newestConnLocked)
		return c != nil
	})
	return c, err
}

// SendRaw writes frame as one text frame on the current connection, waiting for a connection
// within ctx. A write that fails drops that connection and tries the next one.
func (s *Server) SendRaw(ctx context.Context, frame []byte) error {
	for {
		c, err := s.currentConn(ctx)
		if err != nil {
			return err
		}
		if err := c.writeText(frame); err != nil {
			s.log.Debug("socket mode write failed; waiting for another connection", "error", err)
			s.dropConn(c)
			continue
		}
		return nil
	}
}

// Disconnect sends {"type":"disconnect","reason":reason,"debug_info":{…}} on the current
// connection, if any, as Slack does before it recycles a connection ("warning",
// "refresh_requested"). slack-go answers any disconnect by reconnecting at once. The fake
// leaves the old connection to the client to close.
func (s *Server) Disconnect(reason string) {
	c := locked(s, s.newestConnLocked)
	if c == nil {
		return
	}
	msg, _ := json.Marshal(map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": debugHost},
	})
	if err := c.writeText(msg); err != nil {
		s.dropConn(c)
	}
}

// DropConnection closes the current connection abruptly, with no close frame, as a network
// failure would. Connected reports false at once unless an older connection is still open.
func (s *Server) DropConnection() {
	if c := locked(s, s.newestConnLocked); c != nil {
		s.dropConn(c)
	}
}

// Acks returns the acknowledgements received so far, oldest first.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ack, len(s.acks))
	copy(out, s.acks)
	return out
}

// WaitAck returns the first ack of envelopeID, waiting for it if it has not arrived.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var found Ack
	err := s.await(ctx, "ack of "+envelopeID, func() bool {
		for _, a := range s.Acks() {
			if a.EnvelopeID == envelopeID {
				found = a
				return true
			}
		}
		return false
	})
	return found, err
}
