package workflow

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// The unused-password sweeper acts on an IAM user's latest delivery only:
// a newer password (the recovery path: missed the ephemeral, ran the
// command again) is never undone by the older one's window closing.
func TestSweepUnusedSparesANewerPassword(t *testing.T) {
	ft := newFlowTest(t, func(c *config.Config) { c.Reset.ExpireUnusedAfter = config.Duration(time.Hour) })
	first := ft.command(alice, "")
	ft.now = ft.now.Add(50 * time.Minute)
	second := ft.command(alice, "")
	for _, id := range []string{first, second} {
		if s := ft.request(id).State; s != request.Delivered {
			t.Fatalf("request %s = %s; want delivered", id, s)
		}
	}
	ft.now = ft.now.Add(20 * time.Minute) // the first's window closed, the second's not
	ft.flow.Sweep(context.Background())
	if len(ft.iam.scrambled) != 0 {
		t.Fatalf("scrambled %v while the newer password's window is open", ft.iam.scrambled)
	}
	ft.now = ft.now.Add(time.Hour) // now the second's closed too, never used
	ft.flow.Sweep(context.Background())
	ft.flow.Sweep(context.Background()) // and once only
	if len(ft.iam.scrambled) != 1 {
		t.Errorf("scrambled %v; want alice once, for the latest delivery", ft.iam.scrambled)
	}
}

// A password is overwritten only when IAM says it was not used since its
// delivery: one used since, or whose use IAM can't tell now, stays.
func TestSweepUnusedSparesAUsedPassword(t *testing.T) {
	tests := []struct {
		name      string
		change    func(ft *flowTest)
		scrambled int
	}{
		{"never used (the control)", func(*flowTest) {}, 1},
		{"used since its delivery", func(ft *flowTest) {
			a := ft.iam.accounts["alice"]
			a.PasswordLastUsed = ft.now.Add(5 * time.Minute)
			ft.iam.accounts["alice"] = a
		}, 0},
		{"IAM can't be read", func(ft *flowTest) { ft.iam.inspectErr = reset.ErrAccessDenied }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFlowTest(t, func(c *config.Config) { c.Reset.ExpireUnusedAfter = config.Duration(time.Hour) })
			ft.command(alice, "")
			tt.change(ft)
			ft.now = ft.now.Add(2 * time.Hour)
			ft.flow.Sweep(context.Background())
			if len(ft.iam.scrambled) != tt.scrambled {
				t.Errorf("scrambled %v; want alice %d times", ft.iam.scrambled, tt.scrambled)
			}
		})
	}
}

// A command that passed every check while another was still in flight is
// refused by the cooldown when it is recorded after the other's delivery.
func TestCooldownCheckedWhenRecorded(t *testing.T) {
	ft := newFlowTest(t, func(c *config.Config) { c.Reset.Cooldown = config.Duration(10 * time.Minute) })
	inInspect, release := make(chan struct{}), make(chan struct{})
	ft.iam.onInspect = func() { close(inInspect); <-release }
	done := make(chan struct{})
	go func() {
		defer close(done)
		ft.command(alice, "") // held in its IAM look-up
	}()
	<-inInspect
	ft.command(alice, "") // the other one, delivered meanwhile
	close(release)
	<-done
	if n := ft.iam.resetCount(); n != 1 {
		t.Errorf("resets = %d; want 1 within the cooldown", n)
	}
}

// The cooldown is held in the store's create transaction: commands that
// race each other get one reset between them.
func TestCooldownHoldsUnderRacingCommands(t *testing.T) {
	ft := newFlowTest(t, func(c *config.Config) { c.Reset.Cooldown = config.Duration(10 * time.Minute) })
	ft.command(alice, "") // delivered: the cooldown starts
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			cmd := Command{EnvelopeID: "E-race-" + string(rune('a'+i)), Command: "/aws-reset", UserID: alice, TeamID: team}
			id, _ := ft.flow.Preflight(cmd)
			ft.flow.HandleCommand(context.Background(), cmd, id)
		})
	}
	wg.Wait()
	if n := ft.iam.resetCount(); n != 1 {
		t.Errorf("resets = %d; want 1 within the cooldown", n)
	}
	if got := ft.slack.find("ephemeral", dmOf(alice), "You can ask again"); len(got) != 8 {
		t.Errorf("cooldown answers = %d; want 8:\n%s", len(got), ft.slack.dump())
	}
}
