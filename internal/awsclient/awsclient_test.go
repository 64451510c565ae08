package awsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
)

// TestLoadGivesEveryStepADeadline checks that the HTTP client every AWS
// call goes through gives up on a silent endpoint: dialling, the TLS
// handshake and the response header each have a deadline.
func TestLoadGivesEveryStepADeadline(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_ACCESS_KEY_ID", fakeaws.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", fakeaws.SecretAccessKey)
	cfg, err := awsclient.Load(context.Background(), config.AWS{})
	if err != nil {
		t.Fatalf("Load() error %v", err)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("Load() region = %q; want us-east-1 when none is set", cfg.Region)
	}
	c, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("Load() HTTP client = %T; want *awshttp.BuildableClient", cfg.HTTPClient)
	}
	tr := c.GetTransport()
	for name, d := range map[string]time.Duration{
		"dial":            c.GetDialer().Timeout,
		"TLS handshake":   tr.TLSHandshakeTimeout,
		"response header": tr.ResponseHeaderTimeout,
	} {
		if d <= 0 || d > 10*time.Second {
			t.Errorf("%s timeout = %v; want a deadline of at most 10s", name, d)
		}
	}
	if tr.MaxIdleConnsPerHost < 100 {
		t.Errorf("MaxIdleConnsPerHost = %d; want enough for a burst", tr.MaxIdleConnsPerHost)
	}
}

// TestCallTimeoutOnSTS checks that aws.call_timeout bounds STS calls as it
// does IAM's.
func TestCallTimeoutOnSTS(t *testing.T) {
	fake := fakeaws.New(fakeaws.Options{})
	t.Cleanup(fake.Close)
	c := awsclient.New(fake.Config(), awsclient.Options{CallTimeout: 50 * time.Millisecond})
	release := fake.Hold("GetCallerIdentity")
	defer release()
	if _, err := c.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetCallerIdentity() with STS held = %v; want the call's deadline", err)
	}
}

// TestLoadOptionsComeLast checks that a test's options override the
// default chain, as the fakes need.
func TestLoadOptionsComeLast(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg, err := awsclient.Load(context.Background(), config.AWS{Region: "eu-west-1"}, awsconfig.WithRegion(fakeaws.Region))
	if err != nil {
		t.Fatalf("Load() error %v", err)
	}
	if cfg.Region != fakeaws.Region {
		t.Errorf("Load() region = %q; want %q from the extra option", cfg.Region, fakeaws.Region)
	}
}
