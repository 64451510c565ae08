package startup

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestWait(t *testing.T) {
	errDown := errors.New("connection refused")
	errRevoked := errors.New("token_revoked")
	tests := []struct {
		name     string
		results  []error // f's answers, in order; then nil
		want     error
		attempts int
	}{
		{"at once", nil, nil, 1},
		{"after an outage", []error{errDown, errDown, errDown}, nil, 4},
		{"definitive", []error{errDown, Definitive(errRevoked)}, errRevoked, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var st Status
				attempts := 0
				err := Wait(t.Context(), Options{Base: time.Second, Status: &st}, "slack", func(context.Context) error {
					attempts++
					if attempts <= len(tt.results) {
						if attempts > 1 && tt.results[attempts-2] != nil && st.Check("slack")(t.Context()) == nil {
							t.Errorf("Status says ready while waiting")
						}
						return tt.results[attempts-1]
					}
					return nil
				})
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Errorf("Wait() = %v; want %v", err, tt.want)
				}
				if attempts != tt.attempts {
					t.Errorf("attempts = %d; want %d", attempts, tt.attempts)
				}
				if tt.want == nil {
					if err := st.Check("slack")(t.Context()); err != nil {
						t.Errorf("Check() after success = %v; want nil", err)
					}
				}
			})
		})
	}
}

// The back-off grows to its cap and no further.
func TestWaitBackoffIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		_ = Wait(t.Context(), Options{Base: time.Second, Cap: 4 * time.Second}, "aws", func(context.Context) error {
			at = append(at, time.Now())
			if len(at) < 8 {
				return errors.New("throttled")
			}
			return nil
		})
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap > 4*time.Second+time.Millisecond {
				t.Errorf("gap %d = %v; want at most the 4s cap", i, gap)
			}
		}
		if total := at[len(at)-1].Sub(at[0]); total < 15*time.Second {
			t.Errorf("total wait = %v; want the back-off to have grown (at least 15s)", total)
		}
	})
}

// A wait ends with its context, naming what it waited for.
func TestWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err := Wait(ctx, Options{}, "slack", func(context.Context) error { return errors.New("down") })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait() = %v; want the context's error", err)
		}
	})
}
