package slacktext

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<!channel>", "&lt;!channel&gt;"},
		{"<!here|here>", "&lt;!here|here&gt;"},
		{"<https://evil.example|click me>", "&lt;https://evil.example|click me&gt;"},
		{"a & b", "a &amp; b"},
		{"&lt;", "&amp;lt;"},
		{"<@U0ADMIN001>", "&lt;@U0ADMIN001&gt;"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestBuilders(t *testing.T) {
	if got := Mention("U1><!channel"); strings.Contains(got, "<!channel") {
		t.Errorf("Mention of a forged ID = %q; it must not become markup", got)
	}
	if got := Code("a`b<c"); got != "`a'b&lt;c`" {
		t.Errorf("Code = %q", got)
	}
	if got := Link("https://x.example/?a=1&b=<2>", "x <y>"); got != "<https://x.example/?a=1&amp;b=&lt;2&gt;|x &lt;y&gt;>" {
		t.Errorf("Link = %q", got)
	}
	at := time.Date(2026, 11, 27, 9, 30, 0, 0, time.FixedZone("X", 3600))
	if got, want := Date(at), fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|2026-11-27 08:30 UTC>", at.Unix()); got != want {
		t.Errorf("Date = %q", got)
	}
	m := Plain("hello")
	b, err := json.Marshal(m.Blocks)
	if err != nil || !strings.Contains(string(b), `"text":"hello"`) || m.Text != "hello" || len(m.Options()) != 2 {
		t.Errorf("Plain = %s, %v", b, err)
	}
}

// FuzzQuote: whatever someone types, its quoted form is one code span on
// one line with no markup Slack would act on: no mention, @channel, link
// or date token, and no backtick that could end the span early.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"locked out", "<!channel>", "<@U012AB3CD>", "<https://x|y>", "*bold* _it_ ~s~", "a`b", "x\ny", "&lt;!here&gt;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		if !strings.HasPrefix(q, "`") || !strings.HasSuffix(q, "`") || strings.Count(q, "`") != 2 {
			t.Fatalf("Quote(%q) = %q; want one code span", s, q)
		}
		inner := q[1 : len(q)-1]
		if strings.ContainsAny(inner, "<>\n") {
			t.Fatalf("Quote(%q) = %q; markup or a line break got through", s, q)
		}
		if strings.Contains(inner, "&") && strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(inner, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
			t.Fatalf("Quote(%q) = %q; an & is not escaped", s, q)
		}
	})
}
