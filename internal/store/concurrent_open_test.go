package store_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// TestConcurrentOpen starts several bots on one new file at once, as a
// process manager restarting them all might: they take turns migrating,
// and every one opens.
func TestConcurrentOpen(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "bot.db")
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s, err := store.Open(t.Context(), path)
				if err == nil {
					s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: Open by bot %d = %v; want nil", round, i, err)
			}
		}
	}
}
