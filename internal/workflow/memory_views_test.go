package workflow

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// The memSlack's modals, Home tabs and thread replies: recorded like
// messages, with Method "view.open", "view.publish" and "reply".

func (m *memSlack) OpenView(_ context.Context, triggerID string, v slacktext.View) error {
	_, err := m.record("view.open", triggerID, "", slacktext.Message{Text: v.PrivateMetadata, Blocks: v.Blocks})
	return err
}

func (m *memSlack) PublishView(_ context.Context, userID string, v slacktext.View) error {
	_, err := m.record("view.publish", "", userID, slacktext.Message{Blocks: v.Blocks})
	return err
}

func (m *memSlack) Reply(_ context.Context, channel, threadTS string, msg slacktext.Message) (string, error) {
	return m.record("reply", channel, threadTS, msg)
}

// home returns the latest Home tab published for user, as JSON.
func (m *memSlack) home(user string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.sent) - 1; i >= 0; i-- {
		if s := m.sent[i]; s.Method == "view.publish" && s.User == user {
			b, _ := json.Marshal(s.Msg.Blocks)
			return string(b)
		}
	}
	return ""
}

// count returns how many messages of a method contain want.
func (m *memSlack) count(method, want string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sent {
		if s.Method == method && strings.Contains(s.body(), want) {
			n++
		}
	}
	return n
}

// homeExpiry is when every memIAM user's password expires.
var homeExpiry = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

func (r *memIAM) PasswordExpiry(context.Context, string) (time.Time, error) { return homeExpiry, nil }
