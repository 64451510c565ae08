// Package leakcheck captures what the bot writes (logs, command output,
// files) and finds secrets in it that must never be there: passwords,
// tokens, credentials. Tests of every package use it, so "nothing leaks" is
// checked the same way everywhere.
package leakcheck

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
)

// Buffer collects writes from several goroutines, such as a logger's.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Find reports each secret found in each place (a name → its content), as
// "a secret (abcdef…) appears in NAME", naming the secret by its first six
// characters only. Empty secrets are ignored.
func Find(secrets []string, places map[string][]byte) []string {
	names := make([]string, 0, len(places))
	for name := range places {
		names = append(names, name)
	}
	sort.Strings(names)
	var found []string
	for _, name := range names {
		for _, s := range secrets {
			if s != "" && bytes.Contains(places[name], []byte(s)) {
				found = append(found, fmt.Sprintf("a secret (%.6s…) appears in %s", s, name))
			}
		}
	}
	return found
}
