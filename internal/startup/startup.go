// Package startup waits for what the bot needs before it can serve
// (Slack's auth.test, the AWS identity and sign-in URL look-ups): it
// retries transient failures with capped, jittered back-off for as long
// as it takes, and gives up at once on definitive ones, so an outage at
// start is ridden out without a crash loop, and a wrong token still fails
// fast with one line.
package startup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sethvargo/go-retry"
)

// Definitive marks an error that waiting will not mend (a revoked token,
// missing credentials, access denied): Wait returns it at once.
func Definitive(err error) error { return definitiveError{err} }

type definitiveError struct{ err error }

func (e definitiveError) Error() string { return e.err.Error() }
func (e definitiveError) Unwrap() error { return e.err }

// IsDefinitive reports whether err was marked with Definitive.
func IsDefinitive(err error) bool {
	var d definitiveError
	return errors.As(err, &d)
}

// Options tunes Wait. The zero value waits 1s, doubling to at most 30s,
// with 20% jitter.
type Options struct {
	Base, Cap time.Duration
	Logger    *slog.Logger // may be nil
	Status    *Status      // may be nil; told what is still missing
}

// Wait calls f until it succeeds, returns a Definitive error, or ctx ends.
// what names the dependency in logs and in Status.
func Wait(ctx context.Context, o Options, what string, f func(context.Context) error) error {
	if o.Base <= 0 {
		o.Base = time.Second
	}
	if o.Cap <= 0 {
		o.Cap = 30 * time.Second
	}
	b := retry.WithCappedDuration(o.Cap, retry.WithJitterPercent(20, retry.NewExponential(o.Base)))
	attempt := 0
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		attempt++
		err := f(ctx)
		if err == nil {
			o.Status.Set(what, nil)
			return nil
		}
		if IsDefinitive(err) {
			return err
		}
		o.Status.Set(what, err)
		if o.Logger != nil {
			o.Logger.Warn("waiting for a dependency; retrying", slog.String("dependency", what),
				slog.Int("attempt", attempt), slog.Any("error", err))
		}
		return retry.RetryableError(err)
	})
	if err != nil && ctx.Err() != nil && !IsDefinitive(err) {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	return err
}

// Status is what the bot still waits for, for /readyz. The zero value is
// ready to use; a nil *Status ignores everything.
type Status struct {
	mu      sync.Mutex
	missing map[string]error
}

// Set records that what is missing (err != nil) or there (nil).
func (s *Status) Set(what string, err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.missing == nil {
		s.missing = map[string]error{}
	}
	if err == nil {
		delete(s.missing, what)
		return
	}
	s.missing[what] = err
}

// Check is a readiness check for what: an error naming it while it is
// missing.
func (s *Status) Check(what string) func(context.Context) error {
	return func(context.Context) error {
		if s == nil {
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if err, ok := s.missing[what]; ok {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		return nil
	}
}
