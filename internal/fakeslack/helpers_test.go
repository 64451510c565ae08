package fakeslack

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// testTimeout bounds every wait in these tests; nothing should come near it.
const testTimeout = 10 * time.Second

const (
	alice = "U0ALICE001"
	bob   = "U0BOB00001"
)

// newServer starts a fake with alice and bob, closed when the test ends.
func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	s.AddUser(User{ID: alice, Name: "alice", RealName: "Alice Archer", Email: "alice@example.com", TZ: "Europe/Berlin", TZOffset: 3600})
	s.AddUser(User{ID: bob, Name: "bob", RealName: "Bob Baker"})
	return s
}

// botAPI is a real slack-go Web API client with the bot token, pointed at s.
func botAPI(s *Server, opts ...slack.Option) *slack.Client {
	return slack.New(BotToken, append([]slack.Option{slack.OptionAPIURL(s.APIURL())}, opts...)...)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// slackErr returns the Slack error code in err ("" if err is not a Slack error response).
func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1700000000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// smClient is a real socketmode client running against a fake.
type smClient struct {
	*socketmode.Client
	events chan socketmode.Event
}

// startClient runs a socketmode client against s until the test ends; its events are
// forwarded to an ample buffer so that the client never blocks on them.
func startClient(t *testing.T, s *Server, opts ...socketmode.Option) *smClient {
	t.Helper()
	api := slack.New(BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(AppToken))
	c := &smClient{Client: socketmode.New(api, opts...), events: make(chan socketmode.Event, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-c.Events:
				select {
				case c.events <- e:
				default:
					t.Errorf("socketmode event buffer full; dropped %s", e.Type)
				}
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return c
}

// next returns the client's next event of type typ, skipping others.
func (c *smClient) next(t *testing.T, ctx context.Context, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case e := <-c.events:
			if e.Type == typ {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", typ, ctx.Err())
		}
	}
}
