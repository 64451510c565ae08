package fakeaws

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestInProcessClient checks the in-process client inside a synctest
// bubble: signed requests are answered, calls are recorded at the bubble's
// time, and a dropped connection is an error, not a panic.
func TestInProcessClient(t *testing.T) {
	s := start(t, Options{})
	s.AddUser(User{Name: "alice", LoginProfile: true})
	synctest.Test(t, func(t *testing.T) {
		cfg := s.Config()
		cfg.HTTPClient = s.InProcessClient()
		c := iam.NewFromConfig(cfg, noRetry)
		ctx := context.Background()
		start := time.Now()
		time.Sleep(time.Hour)
		if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil {
			t.Fatalf("GetUser() error %v", err)
		}
		if got := s.Calls("GetUser")[0].At; !got.Equal(start.Add(time.Hour)) {
			t.Errorf("call recorded at %v; want the bubble's %v", got, start.Add(time.Hour))
		}
		s.FailNext("GetUser", 1, "network")
		if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); !errors.Is(err, errDropped) {
			t.Errorf("GetUser() with the connection dropped = %v; want errDropped", err)
		}
	})
}
