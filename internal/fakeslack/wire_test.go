package fakeslack

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// dial opens a raw websocket the way slack-go does: apps.connections.open, then the URL.
func dial(t *testing.T, s *Server) (*websocket.Conn, string) {
	t.Helper()
	api := slack.New(BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(AppToken))
	_, wsURL, err := api.StartSocketModeContext(t.Context())
	if err != nil {
		t.Fatalf("apps.connections.open error = %v", err)
	}
	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, wsURL
}

func TestWireFormat(t *testing.T) {
	s := newServer(t, Options{PingInterval: 5 * time.Millisecond})
	ctx := testContext(t)
	conn, wsURL := dial(t, s)
	if !strings.HasPrefix(wsURL, "ws://127.0.0.1:") || !strings.Contains(wsURL, "/link/?ticket=") {
		t.Errorf("socket URL = %q; want ws://127.0.0.1:…/link/?ticket=…", wsURL)
	}

	// A ticket is good for one connection.
	if _, resp, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second dial with the same ticket: %v; want 401", err)
	}

	pings := make(chan struct{}, 10)
	conn.SetPingHandler(func(string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return nil
	})
	frames := make(chan map[string]any, 10)
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
	next := func() map[string]any {
		t.Helper()
		select {
		case f := <-frames:
			return f
		case <-ctx.Done():
			t.Fatal("no frame")
			return nil
		}
	}

	hello := next()
	if hello["type"] != "hello" || hello["num_connections"] != 1.0 || hello["connection_info"].(map[string]any)["app_id"] != AppID {
		t.Errorf("hello = %v", hello)
	}
	for range 3 {
		select {
		case <-pings:
		case <-ctx.Done():
			t.Fatal("fewer than 3 pings")
		}
	}

	if _, err := s.SlashCommand(ctx, SlashCommand{UserID: alice}); err != nil {
		t.Fatal(err)
	}
	env := next()
	payload := env["payload"].(map[string]any)
	if env["type"] != "slash_commands" || env["accepts_response_payload"] != true || payload["is_enterprise_install"] != "false" {
		t.Errorf("slash command envelope = %v", env)
	}
	if _, present := env["retry_attempt"]; present {
		t.Errorf("slash command envelope has retry_attempt: %v", env)
	}
	if err := s.Send(ctx, Envelope{Type: "events_api", EnvelopeID: "e2", Payload: json.RawMessage(`{"type":"event_callback"}`)}); err != nil {
		t.Fatal(err)
	}
	if env := next(); env["retry_attempt"] != 0.0 || env["retry_reason"] != "" || env["envelope_id"] != "e2" {
		t.Errorf("events_api envelope = %v; want retry_attempt 0 and retry_reason \"\"", env)
	}

	s.Disconnect("warning")
	if d := next(); d["type"] != "disconnect" || d["reason"] != "warning" {
		t.Errorf("disconnect = %v", d)
	}

	// Acks: recorded with and without payload; frames without an envelope_id are ignored.
	for _, frame := range []string{`{"envelope_id":"a1"}`, `{"envelope_id":"a2","payload":{"x":1}}`, `{"nothing":true}`, `junk`} {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	if a, err := s.WaitAck(ctx, "a2"); err != nil || string(a.Payload) != `{"x":1}` {
		t.Errorf("WaitAck(a2) = %+v, %v", a, err)
	}
	if acks := s.Acks(); len(acks) != 2 || acks[0].EnvelopeID != "a1" || acks[0].Payload != nil {
		t.Errorf("Acks() = %+v; want a1 (no payload), a2", acks)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Options{PingInterval: time.Millisecond})
	ctx := testContext(t)
	conn, _ := dial(t, s)
	// No pongs: the server pings every millisecond, and a pong written
	// after the server closed would fail, and ReadMessage would report
	// that failure instead of the close frame this test looks for.
	conn.SetPingHandler(func(string) error { return nil })
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // idempotent

	// The hello may still be unread; after it, the connection ends with a close frame.
	var err error
	for range 10 {
		if _, _, err = conn.ReadMessage(); err != nil {
			break
		}
	}
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("reading after Close: %v; want a going-away close", err)
	}
	conn.Close()
	if err := s.WaitConnected(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitConnected() after Close error = %v; want ErrClosed", err)
	}
	if _, err := s.SlashCommand(ctx, SlashCommand{UserID: alice}); !errors.Is(err, ErrClosed) {
		t.Errorf("SlashCommand() after Close error = %v; want ErrClosed", err)
	}
	if s.Connected() {
		t.Error("Connected() = true after Close")
	}

	// Goroutines of the server (and of the test's HTTP client) wind down.
	http.DefaultClient.CloseIdleConnections()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > before {
		select {
		case <-tick.C:
		case <-ctx.Done():
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}
