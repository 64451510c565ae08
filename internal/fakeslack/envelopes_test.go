package fakeslack

import "testing"

func TestFillFromButton(t *testing.T) {
	blocks := []byte(`[
		{"type":"section","block_id":"s1","text":{"type":"mrkdwn","text":"x"},
		 "accessory":{"type":"button","action_id":"more","text":{"type":"plain_text","text":"More"}}},
		{"type":"actions","block_id":"a1","elements":[
		 {"type":"button","action_id":"go","style":"primary","text":{"type":"plain_text","text":"Go"}}]},
		{"type":"actions","block_id":"a2","elements":[
		 {"type":"button","action_id":"go","text":{"type":"plain_text","text":"Go again"}}]}]`)
	tests := []struct {
		actionID, blockID string
		wantBlock         string
		wantText          string
		wantStyle         any
	}{
		{actionID: "more", wantBlock: "s1", wantText: "More"},
		{actionID: "go", wantBlock: "a1", wantText: "Go", wantStyle: "primary"},
		{actionID: "go", blockID: "a2", wantBlock: "a2", wantText: "Go again"},
		{actionID: "gone", wantBlock: "", wantText: "gone"},
	}
	for _, tt := range tests {
		action := map[string]any{
			"action_id": tt.actionID,
			"block_id":  tt.blockID,
			"text":      map[string]any{"type": "plain_text", "text": tt.actionID},
		}
		fillFromButton(action, blocks)
		text, _ := action["text"].(map[string]any)
		if action["block_id"] != tt.wantBlock || text["text"] != tt.wantText || action["style"] != tt.wantStyle {
			t.Errorf("fillFromButton(%q, %q) = %v; want block %q, text %q, style %v", tt.actionID, tt.blockID, action, tt.wantBlock, tt.wantText, tt.wantStyle)
		}
	}
}
