package reset_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

func TestPasswordExpiry(t *testing.T) {
	set := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		policy *fakeaws.PasswordPolicy
		user   string
		want   time.Time
		err    error
	}{
		{"no policy", nil, "bob", time.Time{}, nil},
		{"no maximum age", &fakeaws.PasswordPolicy{MinimumPasswordLength: 14}, "bob", time.Time{}, nil},
		{"ninety days", &fakeaws.PasswordPolicy{MinimumPasswordLength: 14, MaxPasswordAge: 90}, "bob", set.AddDate(0, 0, 90), nil},
		{"no console password", &fakeaws.PasswordPolicy{MinimumPasswordLength: 14, MaxPasswordAge: 90}, "nologin", time.Time{}, reset.ErrNoLoginProfile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, iam := newResetter(t, reset.Options{})
			iam.AddUser(fakeaws.User{Name: "bob", LoginProfile: true, PasswordCreated: set})
			iam.SetPasswordPolicy(tt.policy)
			got, err := r.PasswordExpiry(context.Background(), tt.user)
			if !got.Equal(tt.want) || !errors.Is(err, tt.err) {
				t.Errorf("PasswordExpiry(%q) = %v, %v; want %v, %v", tt.user, got, err, tt.want, tt.err)
			}
		})
	}
}
