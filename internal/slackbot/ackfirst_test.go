package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

func TestWorkingAckMatchesTheMessage(t *testing.T) {
	for range 20 {
		id := request.NewID()
		want, err := json.Marshal(ackPayload(workflow.WorkingMessage(id)))
		if err != nil {
			t.Fatal(err)
		}
		if got := workingAck(id); !bytes.Equal(got, want) {
			t.Fatalf("workingAck(%q) = %s; want %s", id, got, want)
		}
	}
}

// TestHoldback runs in a synctest bubble: its timers and clock are the
// bubble's, so the times are exact and no load can stretch them.
func TestHoldback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHoldback(20*time.Millisecond, 60*time.Millisecond)
		if h.due() != nil {
			t.Fatal("due() with nothing held is not nil")
		}
		nop := heldWork{ctx: context.Background(), f: func(context.Context) {}}
		released := func() bool {
			select {
			case <-h.due():
				return true
			default:
				return false
			}
		}

		// A steady stream, 10ms apart, never goes quiet for 20ms: the work
		// goes 60ms after the first arrived, with the six items held by then.
		start := time.Now()
		var n int
		for !released() {
			if n == 10 {
				t.Fatal("held work never became due")
			}
			h.add(time.Now(), nop)
			n++
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		if d := time.Since(start); d != 60*time.Millisecond {
			t.Errorf("a steady stream released after %v; want 60ms", d)
		}
		if got := len(h.take()); got != n || n != 6 {
			t.Errorf("take() = %d items after %d added; want 6", got, n)
		}
		if h.due() != nil {
			t.Fatal("due() after take is not nil")
		}

		// A lone item goes once the stream has been quiet for 20ms.
		start = time.Now()
		h.add(start, nop)
		<-h.due()
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Errorf("a lone item went after %v; want 20ms", d)
		}
		h.take()

		// postpone waits again, but never past most after the first.
		start = time.Now()
		h.add(start, nop)
		<-h.due()
		if !h.postpone(time.Now()) {
			t.Fatal("postpone refused at 20ms; most is 60ms")
		}
		<-h.due()
		if !h.postpone(time.Now()) {
			t.Fatal("postpone refused at 40ms; most is 60ms")
		}
		<-h.due()
		if d := time.Since(start); d != 60*time.Millisecond {
			t.Errorf("postponed work due after %v; want 60ms", d)
		}
		if h.postpone(time.Now()) {
			t.Error("postpone allowed at 60ms, when most has passed")
		}
	})
}
