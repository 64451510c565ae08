package password

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestGenerateMeetsRandomPolicies(t *testing.T) {
	gen, err := NewGenerator(20)
	if err != nil {
		t.Fatal(err)
	}
	// A property test: thousands of passwords against policies drawn at
	// random, seeded so a failure can be replayed.
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	seen := map[string]bool{}
	for i := range 5000 {
		p := Policy{
			MinLength:      6 + rng.IntN(123), // 6..128, IAM's range
			RequireUpper:   rng.IntN(2) == 0,
			RequireLower:   rng.IntN(2) == 0,
			RequireNumbers: rng.IntN(2) == 0,
			RequireSymbols: rng.IntN(2) == 0,
		}
		secret, err := gen.Generate(p)
		pw := secret.Reveal()
		if err != nil {
			t.Fatalf("seed %d, #%d: Generate(%+v) error %v", seed, i, p, err)
		}
		if err := Check(pw, p); err != nil {
			t.Fatalf("seed %d, #%d: Generate(%+v) gave a password that fails: %v", seed, i, p, err)
		}
		if len(pw) != max(20, p.MinLength) {
			t.Fatalf("len = %d; want max(20, %d)", len(pw), p.MinLength)
		}
		if strings.ContainsAny(pw, "&<>`\" \\") {
			t.Fatalf("password has a character outside the chosen set")
		}
		if seen[pw] {
			t.Fatalf("the same password came twice")
		}
		seen[pw] = true
	}
}

func TestGenerateUnsatisfiable(t *testing.T) {
	gen, err := NewGenerator(20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Generate(Policy{MinLength: 129}); !errors.Is(err, ErrUnsatisfiable) {
		t.Errorf("Generate(MinLength 129) = %v; want ErrUnsatisfiable", err)
	}
}

func TestNewGeneratorLength(t *testing.T) {
	for _, n := range []int{0, -1, 129} {
		if _, err := NewGenerator(n); err == nil {
			t.Errorf("NewGenerator(%d) = nil error; want one", n)
		}
	}
}

func TestCheck(t *testing.T) {
	all := Policy{MinLength: 8, RequireUpper: true, RequireLower: true, RequireNumbers: true, RequireSymbols: true}
	tests := []struct {
		pw   string
		p    Policy
		want string // "" = passes
	}{
		{"Abcdef1!", all, ""},
		{"Abcdef1&", all, ""}, // & counts for IAM even though we never generate it
		{"Abc1!", all, "length"},
		{"abcdef1!", all, "upper"},
		{"ABCDEF1!", all, "lower"},
		{"Abcdefg!", all, "digit"},
		{"Abcdefg1", all, "symbol"},
		{"Abcdef1! ", all, "printable"},
		{"abc", Policy{}, ""},
	}
	for _, tt := range tests {
		err := Check(tt.pw, tt.p)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%q) = %v; want nil", tt.pw, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Check(%q) = %v; want an error about %s", tt.pw, err, tt.want)
		case err != nil && strings.Contains(err.Error(), tt.pw):
			t.Errorf("Check(%q) error %q holds the password", tt.pw, err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	gen, err := NewGenerator(20)
	if err != nil {
		b.Fatal(err)
	}
	p := Policy{MinLength: 14, RequireUpper: true, RequireLower: true, RequireNumbers: true, RequireSymbols: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gen.Generate(p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	gen, err := NewGenerator(20)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gen.Generate(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("x", "secret", s, "any", any(s))
	j, _ := json.Marshal(map[string]any{"s": s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), buf.String(), string(j)} {
		if strings.Contains(out, s.Reveal()) {
			t.Errorf("printing a Secret showed the password: %q", out)
		}
	}
}
