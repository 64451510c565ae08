package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
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

func TestHoldback(t *testing.T) {
	h := newHoldback(20*time.Millisecond, 60*time.Millisecond)
	if h.due() != nil {
		t.Fatal("due() with nothing held is not nil")
	}
	start := time.Now()
	nop := heldWork{ctx: context.Background(), f: func(context.Context) {}}
	// A steady stream, 10ms apart, never goes quiet for 20ms: the work
	// goes 60ms after the first arrived.
	for i := range 10 {
		h.add(time.Now(), nop)
		select {
		case <-h.due():
			if d := time.Since(start); d < 55*time.Millisecond {
				t.Fatalf("released after %v and %d items; want no sooner than 60ms", d, i+1)
			}
			if got := len(h.take()); got != i+1 {
				t.Fatalf("take() = %d items; want %d", got, i+1)
			}
			if h.due() != nil {
				t.Fatal("due() after take is not nil")
			}
			// A lone item goes once the stream is quiet.
			start = time.Now()
			h.add(start, nop)
			<-h.due()
			if d := time.Since(start); d < 15*time.Millisecond || d > 500*time.Millisecond {
				t.Errorf("a lone item went after %v; want about 20ms", d)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("held work never became due")
}
