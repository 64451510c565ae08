package store_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

func TestDMChannels(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DMChannel(ctx, "T1", "U1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DMChannel(unknown) = %v; want ErrNotFound", err)
	}
	at := time.Unix(1700000000, 0)
	if err := s.SetDMChannel(ctx, "T1", "U1", "D1", at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDMChannel(ctx, "T1", "U1", "D2", at); err != nil {
		t.Fatalf("SetDMChannel again = %v", err)
	}
	if err := s.SetDMChannel(ctx, "T1", "", "D3", at); err == nil {
		t.Error("SetDMChannel(no user) = nil; want an error")
	}
	s.Close()

	// It outlives a restart, and one team's user is not another's.
	s, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id, err := s.DMChannel(ctx, "T1", "U1"); err != nil || id != "D2" {
		t.Errorf("DMChannel(T1, U1) after reopening = %q, %v; want D2", id, err)
	}
	if _, err := s.DMChannel(ctx, "T2", "U1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DMChannel(T2, U1) = %v; want ErrNotFound", err)
	}
}
