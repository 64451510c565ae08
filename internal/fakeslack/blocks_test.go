package fakeslack

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidateBlocks(t *testing.T) {
	tests := []struct {
		name, blocks string
		wantCode     string
	}{
		{"empty array", `[]`, ""},
		{"divider", `[{"type":"divider"}]`, ""},
		{"section fields", `[{"type":"section","fields":[{"type":"mrkdwn","text":"*a*"},{"type":"plain_text","text":"b","emoji":true}]}]`, ""},
		{"section with button accessory", `[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"button","text":{"type":"plain_text","text":"Go"},"action_id":"go"}}]`, ""},
		{"section with image accessory", `[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"image","image_url":"https://x/y.png","alt_text":"y"}}]`, ""},
		{"context", `[{"type":"context","elements":[{"type":"mrkdwn","text":"x"},{"type":"image","image_url":"https://x/y.png","alt_text":"y"}]}]`, ""},
		{"markdown", `[{"type":"markdown","text":"**x**"}]`, ""},
		{"header", `[{"type":"header","text":{"type":"plain_text","text":"Password reset"}}]`, ""},
		{"button with confirm", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Go"},"confirm":{"title":{"type":"plain_text","text":"Sure?"},"text":{"type":"mrkdwn","text":"Really"},"confirm":{"type":"plain_text","text":"Yes"},"deny":{"type":"plain_text","text":"No"}}}]}]`, ""},
		{"same action_id in two blocks", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"A"},"action_id":"go"}]},{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"B"},"action_id":"go"}]}]`, ""},
		{"not json", `[{"type":`, "invalid_blocks_format"},
		{"object", `{"type":"divider"}`, "invalid_blocks_format"},
		{"null", `null`, "invalid_blocks_format"},
		{"not an object", `["divider"]`, "invalid_blocks"},
		{"no type", `[{"text":"x"}]`, "invalid_blocks"},
		{"empty text", `[{"type":"section","text":{"type":"mrkdwn","text":""}}]`, "invalid_blocks"},
		{"bad text type", `[{"type":"section","text":{"type":"markdown","text":"x"}}]`, "invalid_blocks"},
		{"too many fields", `[{"type":"section","fields":[` + strings.TrimSuffix(strings.Repeat(`{"type":"mrkdwn","text":"x"},`, 11), ",") + `]}]`, "invalid_blocks"},
		{"empty actions", `[{"type":"actions","elements":[]}]`, "invalid_blocks"},
		{"image without alt_text", `[{"type":"image","image_url":"https://x/y.png"}]`, "invalid_blocks"},
		{"long block_id", `[{"type":"divider","block_id":"` + strings.Repeat("b", 256) + `"}]`, "invalid_blocks"},
		{"markdown too long", `[{"type":"markdown","text":"` + strings.Repeat("m", 12001) + `"}]`, "invalid_blocks"},
		{"incomplete confirm", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Go"},"confirm":{"title":{"type":"plain_text","text":"Sure?"}}}]}]`, "invalid_blocks"},
		{"image button", `[{"type":"actions","elements":[{"type":"image","image_url":"https://x/y.png","alt_text":"y"}]}]`, "invalid_blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			_, code, problems := validateBlocks(tt.blocks, func() int { n++; return n })
			if code != tt.wantCode {
				t.Errorf("validateBlocks(%.60q) code = %q (%v); want %q", tt.blocks, code, problems, tt.wantCode)
			}
			if code == "invalid_blocks" && len(problems) == 0 {
				t.Errorf("validateBlocks(%.60q) gave no problem lines", tt.blocks)
			}
		})
	}
}

func TestValidateBlocksAssignsIDs(t *testing.T) {
	n := 0
	raw := `[{"type":"section","text":{"type":"mrkdwn","text":"<@U1> & co"},"accessory":{"type":"button","text":{"type":"plain_text","text":"Go"}}},` +
		`{"type":"actions","block_id":"keep","elements":[{"type":"button","text":{"type":"plain_text","text":"A"},"action_id":"mine"},{"type":"button","text":{"type":"plain_text","text":"B"}}]}]`
	out, code, problems := validateBlocks(raw, func() int { n++; return n })
	if code != "" {
		t.Fatalf("validateBlocks() = %q, %v", code, problems)
	}
	var blocks []struct {
		BlockID   string `json:"block_id"`
		Accessory struct {
			ActionID string `json:"action_id"`
		} `json:"accessory"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(out, &blocks); err != nil {
		t.Fatal(err)
	}
	if blocks[0].BlockID == "" || blocks[0].Accessory.ActionID == "" {
		t.Errorf("section got block_id %q, accessory action_id %q; want generated ones", blocks[0].BlockID, blocks[0].Accessory.ActionID)
	}
	if blocks[1].BlockID != "keep" || blocks[1].Elements[0].ActionID != "mine" || blocks[1].Elements[1].ActionID == "" {
		t.Errorf("actions block = %+v; want given IDs kept and the missing one generated", blocks[1])
	}
	if !strings.Contains(string(out), "<@U1> & co") {
		t.Errorf("validateBlocks() escaped the text: %s", out)
	}
}

func TestGeneratedIDUnique(t *testing.T) {
	seen := make(map[string]bool)
	for n := 1; n <= 100000; n++ {
		id := generatedID(n)
		if len(id) != 4 || seen[id] {
			t.Fatalf("generatedID(%d) = %q; want a new 4-character ID", n, id)
		}
		seen[id] = true
	}
}
