package reset_test

import (
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

func TestAccountSignInURL(t *testing.T) {
	for _, tt := range []struct{ partition, want string }{
		{"aws", "https://111111111111.signin.aws.amazon.com/console"},
		{"aws-us-gov", "https://111111111111.signin.amazonaws-us-gov.com/console"},
		{"aws-cn", "https://111111111111.signin.amazonaws.cn/console"},
	} {
		if got := reset.AccountSignInURL(tt.partition, "111111111111"); got != tt.want {
			t.Errorf("AccountSignInURL(%q) = %q; want %q", tt.partition, got, tt.want)
		}
	}
}
