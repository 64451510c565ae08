package slackbot

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"
)

func validCallback() slack.InteractionCallback {
	var cb slack.InteractionCallback
	cb.Type = slack.InteractionTypeBlockActions
	cb.Team.ID = "T0TEAM0001"
	cb.User.ID, cb.User.TeamID = "U0ADMIN001", "T0TEAM0001"
	cb.Channel.ID = "C0APPROVE1"
	cb.Container.MessageTs = "1700000000.000100"
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: "a", BlockID: "b", Value: "v"}}
	return cb
}

func TestClickOf(t *testing.T) {
	tests := []struct {
		name string
		edit func(*slack.InteractionCallback)
		ok   bool
	}{
		{"one action", func(*slack.InteractionCallback) {}, true},
		{"other type", func(cb *slack.InteractionCallback) { cb.Type = slack.InteractionTypeViewSubmission }, false},
		{"no action", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions = nil }, false},
		{"nil action", func(cb *slack.InteractionCallback) { cb.ActionCallback.BlockActions = []*slack.BlockAction{nil} }, false},
		{"two actions", func(cb *slack.InteractionCallback) {
			cb.ActionCallback.BlockActions = append(cb.ActionCallback.BlockActions, cb.ActionCallback.BlockActions[0])
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := validCallback()
			tt.edit(&cb)
			if _, ok := clickOf(cb); ok != tt.ok {
				t.Errorf("clickOf() ok = %v; want %v", ok, tt.ok)
			}
		})
	}
	// The enterprise is read from the team, or else from the payload.
	cb := validCallback()
	cb.Enterprise.ID = "E0ORG00001"
	if c, _ := clickOf(cb); c.EnterpriseID != "E0ORG00001" || c.Value != "v" || c.MessageTS != cb.Container.MessageTs {
		t.Errorf("clickOf() = %+v; want the enterprise, value and message of the payload", c)
	}
}

// FuzzClickOf reads any payload without panicking, and whatever it
// accepts carries the payload's one action.
func FuzzClickOf(f *testing.F) {
	seed, _ := json.Marshal(validCallback())
	f.Add(seed)
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"aws_reset_approve","block_id":"aws_reset_decision","value":"x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(payload, &cb) != nil {
			return
		}
		c, ok := clickOf(cb)
		if !ok {
			return
		}
		a := cb.ActionCallback.BlockActions[0]
		if c.ActionID != a.ActionID || c.BlockID != a.BlockID || c.Value != a.Value || c.UserID != cb.User.ID {
			t.Fatalf("clickOf() = %+v; not the payload's action %+v", c, a)
		}
	})
}
