package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxBlocks is the most blocks a message may carry.
const maxBlocks = 50

// looseBlockTypes are block types the fake accepts with no check beyond their type.
var looseBlockTypes = map[string]bool{
	"file": true, "video": true, "table": true, "call": true, "context_actions": true,
	"card": true, "carousel": true, "alert": true, "plan": true, "task_card": true,
	"data_table": true, "data_visualization": true, "container": true, "layout": true,
}

// interactiveElements are the element types allowed in actions blocks, section accessories
// and input blocks ("image" only as an accessory, checked by the caller).
var interactiveElements = map[string]bool{
	"button": true, "checkboxes": true, "datepicker": true, "datetimepicker": true,
	"email_text_input": true, "external_select": true, "multi_channels_select": true,
	"multi_conversations_select": true, "multi_external_select": true, "multi_static_select": true,
	"multi_users_select": true, "number_input": true, "overflow": true, "plain_text_input": true,
	"radio_buttons": true, "rich_text_input": true, "static_select": true, "channels_select": true,
	"conversations_select": true, "users_select": true, "timepicker": true, "url_text_input": true,
	"workflow_button": true, "file_input": true, "feedback_buttons": true, "icon_button": true,
}

// validateBlocks checks a "blocks" argument against the Block Kit rules Slack enforces on
// messages. Input that is not a JSON array is invalid_blocks_format; an array that breaks a
// rule is invalid_blocks, with Slack-style "[ERROR] … [json-pointer:…]" problem lines. Valid
// blocks come back re-encoded, with a generated block_id on every block that has none and an
// action_id on every interactive element that has none, as Slack stores them. An empty array
// yields nil blocks.
func validateBlocks(raw string, nextID func() int) (json.RawMessage, string, []string) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "invalid_blocks_format", nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "invalid_blocks_format", nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, "invalid_blocks_format", nil
	}
	if len(list) == 0 {
		return nil, "", nil
	}
	c := &blockChecker{blockIDs: make(map[string]bool)}
	if len(list) > maxBlocks {
		c.fail("/blocks", fmt.Sprintf("must provide an array of no more than %d items", maxBlocks))
	}
	for i, b := range list {
		c.block(fmt.Sprintf("/blocks/%d", i), b)
	}
	if len(c.problems) > 0 {
		return nil, "invalid_blocks", c.problems
	}
	assignIDs(list, nextID)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(list); err != nil {
		return nil, "invalid_blocks_format", nil
	}
	return bytes.TrimSpace(buf.Bytes()), "", nil
}

// blockChecker accumulates the problems found in one blocks array.
type blockChecker struct {
	problems []string
	blockIDs map[string]bool
}

func (c *blockChecker) fail(ptr, msg string) {
	c.problems = append(c.problems, fmt.Sprintf("[ERROR] %s [json-pointer:%s]", msg, ptr))
}

func (c *blockChecker) block(ptr string, v any) {
	b, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be an object")
		return
	}
	typ, _ := b["type"].(string)
	if typ == "" {
		c.fail(ptr+"/type", "missing required field: type")
		return
	}
	if id, present := b["block_id"]; present {
		c.identifier(ptr+"/block_id", id, c.blockIDs, "block_id")
	}
	switch typ {
	case "section":
		c.section(ptr, b)
	case "header":
		c.text(ptr+"/text", b["text"], 150, true)
	case "divider":
	case "context":
		c.context(ptr, b)
	case "actions":
		ids := make(map[string]bool)
		for i, el := range c.list(ptr+"/elements", b["elements"], 1, 25) {
			c.element(fmt.Sprintf("%s/elements/%d", ptr, i), el, ids, false)
		}
	case "image":
		c.image(ptr, b)
	case "markdown":
		c.str(ptr+"/text", b["text"], true, 12000)
	case "rich_text":
		c.list(ptr+"/elements", b["elements"], 0, -1)
	case "input":
		c.text(ptr+"/label", b["label"], 2000, true)
		c.element(ptr+"/element", b["element"], make(map[string]bool), false)
	default:
		if !looseBlockTypes[typ] {
			c.fail(ptr+"/type", fmt.Sprintf("failed to match all allowed schemas: unknown block type %q", typ))
		}
	}
}

func (c *blockChecker) section(ptr string, b map[string]any) {
	text, hasText := b["text"]
	fields, hasFields := b["fields"]
	if !hasText && !hasFields {
		c.fail(ptr, "must provide either text or fields")
	}
	if hasText {
		c.text(ptr+"/text", text, 3000, false)
	}
	if hasFields {
		for i, f := range c.list(ptr+"/fields", fields, 1, 10) {
			c.text(fmt.Sprintf("%s/fields/%d", ptr, i), f, 2000, false)
		}
	}
	if acc, ok := b["accessory"]; ok {
		c.element(ptr+"/accessory", acc, make(map[string]bool), true)
	}
}

func (c *blockChecker) context(ptr string, b map[string]any) {
	for i, el := range c.list(ptr+"/elements", b["elements"], 1, 10) {
		p := fmt.Sprintf("%s/elements/%d", ptr, i)
		m, _ := el.(map[string]any)
		switch t, _ := m["type"].(string); t {
		case "image":
			c.image(p, m)
		case "plain_text", "mrkdwn":
			c.text(p, el, 3000, false)
		default:
			c.fail(p, "must be an image element or a text object")
		}
	}
}

func (c *blockChecker) image(ptr string, b map[string]any) {
	c.str(ptr+"/alt_text", b["alt_text"], true, 2000)
	_, hasURL := b["image_url"]
	_, hasFile := b["slack_file"]
	switch {
	case hasURL:
		c.str(ptr+"/image_url", b["image_url"], true, 3000)
	case !hasFile:
		c.fail(ptr, "must provide either image_url or slack_file")
	}
	if title, ok := b["title"]; ok {
		c.text(ptr+"/title", title, 2000, true)
	}
}

// element checks an interactive element; ids holds the action_ids already used in its block.
func (c *blockChecker) element(ptr string, v any, ids map[string]bool, accessory bool) {
	el, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "missing required field: element object")
		return
	}
	typ, _ := el["type"].(string)
	switch {
	case typ == "image" && accessory:
		c.image(ptr, el)
		return
	case !interactiveElements[typ]:
		c.fail(ptr+"/type", fmt.Sprintf("unsupported element type %q", typ))
		return
	}
	if id, present := el["action_id"]; present {
		c.identifier(ptr+"/action_id", id, ids, "action_id")
	}
	if typ != "button" {
		return
	}
	c.text(ptr+"/text", el["text"], 75, true)
	if v, ok := el["value"]; ok {
		c.str(ptr+"/value", v, false, 2000)
	}
	if v, ok := el["url"]; ok {
		c.str(ptr+"/url", v, false, 3000)
	}
	c.style(ptr+"/style", el)
	if confirm, ok := el["confirm"]; ok {
		c.confirm(ptr+"/confirm", confirm)
	}
}

func (c *blockChecker) confirm(ptr string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be a confirmation dialog object")
		return
	}
	c.text(ptr+"/title", m["title"], 100, true)
	c.text(ptr+"/text", m["text"], 300, false)
	c.text(ptr+"/confirm", m["confirm"], 30, true)
	c.text(ptr+"/deny", m["deny"], 30, true)
	c.style(ptr+"/style", m)
}

func (c *blockChecker) style(ptr string, m map[string]any) {
	v, ok := m["style"]
	if !ok {
		return
	}
	if s, _ := v.(string); s != "primary" && s != "danger" {
		c.fail(ptr, "must be one of: primary, danger")
	}
}

// text checks a text object of at most maxRunes characters; plainOnly refuses mrkdwn.
func (c *blockChecker) text(ptr string, v any, maxRunes int, plainOnly bool) {
	if v == nil {
		c.fail(ptr, "missing required field: text object")
		return
	}
	t, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be a text object")
		return
	}
	typ, _ := t["type"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		c.fail(ptr+"/type", "must be one of: plain_text, mrkdwn")
	case plainOnly && typ != "plain_text":
		c.fail(ptr+"/type", "must be plain_text")
	}
	if _, hasEmoji := t["emoji"]; hasEmoji && typ == "mrkdwn" {
		c.fail(ptr+"/emoji", "emoji is only allowed in plain_text")
	}
	c.str(ptr+"/text", t["text"], true, maxRunes)
}

// str checks a string field of 1 to maxRunes characters.
func (c *blockChecker) str(ptr string, v any, required bool, maxRunes int) {
	if v == nil {
		if required {
			c.fail(ptr, "missing required field")
		}
		return
	}
	s, ok := v.(string)
	switch n := utf8.RuneCountInString(s); {
	case !ok:
		c.fail(ptr, "must be a string")
	case n == 0:
		c.fail(ptr, "must be more than 0 characters")
	case n > maxRunes:
		c.fail(ptr, fmt.Sprintf("must be less than %d characters", maxRunes+1))
	}
}

// list checks an array of minItems to maxItems (-1 = any) entries and returns its entries.
func (c *blockChecker) list(ptr string, v any, minItems, maxItems int) []any {
	l, ok := v.([]any)
	switch {
	case !ok:
		c.fail(ptr, "missing required field: array")
	case len(l) < minItems:
		c.fail(ptr, fmt.Sprintf("must provide an array of at least %d items", minItems))
	case maxItems >= 0 && len(l) > maxItems:
		c.fail(ptr, fmt.Sprintf("must provide an array of no more than %d items", maxItems))
	}
	return l
}

// identifier checks a block_id or action_id: 1 to 255 characters, unique within seen.
func (c *blockChecker) identifier(ptr string, v any, seen map[string]bool, what string) {
	c.str(ptr, v, true, 255)
	s, _ := v.(string)
	if s == "" {
		return
	}
	if seen[s] {
		c.fail(ptr, fmt.Sprintf("duplicate %s %q", what, s))
	}
	seen[s] = true
}

// assignIDs gives every block without a block_id, and every interactive element without an
// action_id, a generated one. The blocks have been validated.
func assignIDs(blocks []any, nextID func() int) {
	setID := func(m map[string]any, key string) {
		if _, ok := m[key]; !ok {
			m[key] = generatedID(nextID())
		}
	}
	for _, v := range blocks {
		b := v.(map[string]any)
		setID(b, "block_id")
		var elems []any
		switch b["type"] {
		case "actions":
			elems, _ = b["elements"].([]any)
		case "section":
			if acc, ok := b["accessory"]; ok {
				elems = []any{acc}
			}
		case "input":
			elems = []any{b["element"]}
		}
		for _, e := range elems {
			if el, ok := e.(map[string]any); ok && el["type"] != "image" {
				setID(el, "action_id")
			}
		}
	}
}

// generatedID turns a counter into a short, random-looking, unique ID like Slack's ("aZ3k").
func generatedID(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	const space = 62 * 62 * 62 * 62
	x := (n * 9973) % space // 9973 is coprime with 62^4: distinct for the first 62^4 IDs
	out := make([]byte, 4)
	for i := range out {
		out[i] = alphabet[x%62]
		x /= 62
	}
	return string(out)
}
