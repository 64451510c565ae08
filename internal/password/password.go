// Package password generates temporary console passwords that satisfy an
// AWS account's password policy. It holds passwords only in memory and
// never logs or stores them.
package password

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	gopassword "github.com/sethvargo/go-password/password"
)

// Symbols is the set of symbols the generator uses: IAM's accepted symbols
// (! @ # $ % ^ & * ( ) _ + - = [ ] { } | ') less "&", which Slack's
// message format would have to escape and a reader might copy as "&amp;".
const Symbols = "!@#$%^*()_+-=[]{}|'"

// iamSymbols is every symbol IAM counts towards a "require symbols" policy.
const iamSymbols = "!@#$%^&*()_+-=[]{}|'"

// MaxLength is IAM's longest console password.
const MaxLength = 128

// Policy is what an account's password policy demands of a new password.
type Policy struct {
	MinLength      int
	RequireUpper   bool
	RequireLower   bool
	RequireNumbers bool
	RequireSymbols bool
}

// DefaultPolicy is AWS's policy for an account that has set none: at least
// 8 characters and three of the four character classes.
func DefaultPolicy() Policy { return Policy{MinLength: 8} }

// Generator makes random passwords from crypto/rand. It is safe for
// concurrent use.
type Generator struct {
	minLength int
	gen       *gopassword.Generator
}

// NewGenerator returns a generator whose passwords are at least minLength
// long (and at least as long as any policy demands).
func NewGenerator(minLength int) (*Generator, error) {
	return newGenerator(minLength, rand.Reader)
}

func newGenerator(minLength int, random io.Reader) (*Generator, error) {
	if minLength < 1 || minLength > MaxLength {
		return nil, fmt.Errorf("password length %d is outside 1..%d", minLength, MaxLength)
	}
	gen, err := gopassword.NewGenerator(&gopassword.GeneratorInput{
		LowerLetters: gopassword.LowerLetters,
		UpperLetters: gopassword.UpperLetters,
		Digits:       gopassword.Digits,
		Symbols:      Symbols,
		Reader:       newLockedReader(random),
	})
	if err != nil {
		return nil, fmt.Errorf("new password generator: %w", err)
	}
	return &Generator{minLength: minLength, gen: gen}, nil
}

// ErrUnsatisfiable means no password the generator can make meets the policy.
var ErrUnsatisfiable = errors.New("password policy cannot be met")

// Generate returns a password that meets p. Every password has upper and
// lower case letters, digits and symbols, whatever the policy asks, so it
// meets AWS's default policy too.
func (g *Generator) Generate(p Policy) (Secret, error) {
	length := max(g.minLength, p.MinLength)
	if length > MaxLength {
		return Secret{}, fmt.Errorf("policy asks for %d characters, IAM allows %d: %w", p.MinLength, MaxLength, ErrUnsatisfiable)
	}
	digits := max(2, length/6)
	symbols := max(2, length/6)
	// The letters are drawn from both cases at once; redraw in the rare
	// case that one case is missing (p < 2^-12 for 20 characters).
	for range 64 {
		pw, err := g.gen.Generate(length, digits, symbols, false, true)
		if err != nil {
			return Secret{}, fmt.Errorf("generate password: %w", err)
		}
		if Check(pw, Policy{MinLength: length, RequireUpper: true, RequireLower: true, RequireNumbers: true, RequireSymbols: true}) == nil {
			return Secret{pw}, nil
		}
	}
	return Secret{}, fmt.Errorf("generate password: no password with every character class: %w", ErrUnsatisfiable)
}

// Check reports how pw fails p, or nil. It never puts pw in the error.
func Check(pw string, p Policy) error {
	var missing []string
	if len(pw) < p.MinLength {
		missing = append(missing, fmt.Sprintf("length %d < %d", len(pw), p.MinLength))
	}
	has := func(set string) bool { return strings.ContainsAny(pw, set) }
	if p.RequireUpper && !has(gopassword.UpperLetters) {
		missing = append(missing, "no upper case letter")
	}
	if p.RequireLower && !has(gopassword.LowerLetters) {
		missing = append(missing, "no lower case letter")
	}
	if p.RequireNumbers && !has(gopassword.Digits) {
		missing = append(missing, "no digit")
	}
	if p.RequireSymbols && !has(iamSymbols) {
		missing = append(missing, "no symbol")
	}
	for _, c := range pw {
		if c < 0x21 || c > 0x7e {
			missing = append(missing, "a character outside printable ASCII")
			break
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("password does not meet the policy: %s", strings.Join(missing, ", "))
	}
	return nil
}

// lockedReader buffers crypto/rand so a password costs a few large reads
// instead of dozens of small ones; the lock makes it safe to share.
type lockedReader struct {
	mu sync.Mutex
	r  *bufio.Reader
}

func newLockedReader(r io.Reader) *lockedReader {
	return &lockedReader{r: bufio.NewReaderSize(r, 1024)}
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return io.ReadFull(l.r, p)
}
