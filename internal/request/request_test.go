package request

import "testing"

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to State
		want     bool
	}{
		{Pending, Approved, true},
		{Pending, Denied, true},
		{Pending, Expired, true},
		{Pending, Failed, true},
		{Pending, Resetting, false}, // never reset without a decision
		{Pending, Delivered, false},
		{Approved, Resetting, true},
		{Approved, Failed, true},
		{Approved, Pending, false},
		{Approved, Expired, true},
		{Resetting, Delivered, true},
		{Resetting, Failed, true},
		{Resetting, Resetting, true}, // marked as being shown to its owner (never a second reset: the workflow resets only from approved)
		{Resetting, Approved, true},  // offered to its owner again after a restart
		{Approved, Approved, true},
		{Delivered, Resetting, false},
		{Denied, Approved, false},
		{Expired, Approved, false},
		{Failed, Resetting, false},
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMove(%s, %s) = %v; want %v", tt.from, tt.to, got, tt.want)
		}
	}
	for _, s := range []State{Delivered, Failed, Denied, Expired} {
		if !s.Terminal() || s.Active() {
			t.Errorf("%s: Terminal() = %v, Active() = %v; want terminal", s, s.Terminal(), s.Active())
		}
	}
	for _, s := range ActiveStates() {
		if s.Terminal() {
			t.Errorf("%s is listed active but is terminal", s)
		}
	}
}

func TestIDsAndTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, tok := NewID(), NewToken()
		if !ValidID(id) || !ValidToken(tok) {
			t.Fatalf("NewID() = %q, NewToken() = %q; not valid by their own checks", id, tok)
		}
		if seen[id] || seen[tok] {
			t.Fatal("a repeated ID or token")
		}
		seen[id], seen[tok] = true, true
	}
	for _, bad := range []string{"", "R", "r234567890A", "R23456789O1", "R2345678901", "R234567890AB", "X234567890A"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true; want false", bad)
		}
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if ValidToken(bad) {
			t.Errorf("ValidToken(%q) = true; want false", bad)
		}
	}
}
