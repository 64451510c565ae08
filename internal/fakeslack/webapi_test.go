package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestAuthTest(t *testing.T) {
	tests := []struct {
		name       string
		enterprise string
		token      string
		wantUser   string
		wantBot    string
	}{
		{name: "bot token", token: BotToken, wantUser: BotUserID, wantBot: BotID},
		{name: "bot token on grid", enterprise: "E0ENT00001", token: BotToken, wantUser: BotUserID, wantBot: BotID},
		{name: "app token", token: AppToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{EnterpriseID: tt.enterprise})
			api := slack.New(tt.token, slack.OptionAPIURL(s.APIURL()))
			got, err := api.AuthTestContext(testContext(t))
			if err != nil {
				t.Fatalf("AuthTest() error = %v", err)
			}
			if got.TeamID != TeamID || got.UserID != tt.wantUser || got.BotID != tt.wantBot || got.EnterpriseID != tt.enterprise {
				t.Errorf("AuthTest() = %+v; want team %s, user %q, bot %q, enterprise %q", got, TeamID, tt.wantUser, tt.wantBot, tt.enterprise)
			}
			if got.URL != "https://"+TeamDomain+".slack.com/" || got.Team != TeamName {
				t.Errorf("AuthTest() url, team = %q, %q", got.URL, got.Team)
			}
			if c := s.Calls("auth.test"); len(c) != 1 || c[0].Token != tt.token || c[0].Status != http.StatusOK {
				t.Errorf("Calls(auth.test) = %+v; want one call with token %q", c, tt.token)
			}
		})
	}
}

func TestTokenChecks(t *testing.T) {
	s := newServer(t, Options{})
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"no token", func() error {
			_, err := slack.New("", slack.OptionAPIURL(s.APIURL())).AuthTest()
			return err
		}, "not_authed"},
		{"unknown token", func() error {
			_, err := slack.New("xoxb-0000-nope", slack.OptionAPIURL(s.APIURL())).AuthTest()
			return err
		}, "invalid_auth"},
		{"app token for users.info", func() error {
			_, err := slack.New(AppToken, slack.OptionAPIURL(s.APIURL())).GetUserInfo(alice)
			return err
		}, "not_allowed_token_type"},
		{"bot token for apps.connections.open", func() error {
			_, _, err := slack.New(BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(BotToken)).StartSocketModeContext(t.Context())
			return err
		}, "not_allowed_token_type"},
		{"no app token for apps.connections.open", func() error {
			_, _, err := botAPI(s).StartSocketModeContext(t.Context())
			return err
		}, "not_authed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slackErr(tt.call()); got != tt.want {
				t.Errorf("error code = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestUsersInfo(t *testing.T) {
	s := newServer(t, Options{EnterpriseID: "E0ENT00001"})
	s.AddUser(User{ID: "U0GONE0001", Name: "gone", Deleted: true, IsRestricted: true})
	s.AddUser(User{ID: "U0GUEST001", Name: "guest", IsRestricted: true, IsUltraRestricted: true})
	api := botAPI(s)
	ctx := testContext(t)

	u, err := api.GetUserInfoContext(ctx, alice)
	if err != nil {
		t.Fatalf("GetUserInfo(%q) error = %v", alice, err)
	}
	if u.ID != alice || u.Name != "alice" || u.RealName != "Alice Archer" || u.TeamID != TeamID ||
		u.TZ != "Europe/Berlin" || u.TZOffset != 3600 || u.Profile.Email != "alice@example.com" || u.Deleted || u.IsBot {
		t.Errorf("GetUserInfo(%q) = %+v", alice, u)
	}
	if u.Enterprise.EnterpriseID != "E0ENT00001" || u.Enterprise.ID != alice {
		t.Errorf("GetUserInfo(%q).Enterprise = %+v; want enterprise E0ENT00001", alice, u.Enterprise)
	}

	gone, err := api.GetUserInfoContext(ctx, "U0GONE0001")
	if err != nil || !gone.Deleted || gone.IsRestricted || gone.TZ != "" {
		t.Errorf("GetUserInfo(deleted) = %+v, %v; want deleted with no tz or role flags", gone, err)
	}
	guest, err := api.GetUserInfoContext(ctx, "U0GUEST001")
	if err != nil || !guest.IsRestricted || !guest.IsUltraRestricted {
		t.Errorf("GetUserInfo(guest) = %+v, %v; want restricted and ultra restricted", guest, err)
	}
	bot, err := api.GetUserInfoContext(ctx, BotUserID)
	if err != nil || !bot.IsBot || bot.Profile.BotID != BotID {
		t.Errorf("GetUserInfo(bot) = %+v, %v; want the bot user", bot, err)
	}
	if _, err := api.GetUserInfoContext(ctx, "U0NOBODY01"); slackErr(err) != "user_not_found" {
		t.Errorf("GetUserInfo(unknown) error = %v; want user_not_found", err)
	}
}

func TestConversationsOpen(t *testing.T) {
	s := newServer(t, Options{})
	s.AddUser(User{ID: "U0GONE0001", Name: "gone", Deleted: true})
	api := botAPI(s)
	ctx := testContext(t)

	ch, noOp, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{alice}})
	if err != nil || ch.ID != DMChannel(alice) || noOp || already {
		t.Fatalf("OpenConversation(alice) = %+v, %v, %v, %v; want %s, first opening", ch, noOp, already, err, DMChannel(alice))
	}
	ch, _, already, err = api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{alice}, ReturnIM: true})
	if err != nil || ch.ID != DMChannel(alice) || !already || !ch.IsIM || ch.User != alice {
		t.Errorf("OpenConversation(alice) again = %+v, %v, %v; want the full IM, already open", ch, already, err)
	}
	for user, want := range map[string]string{"U0NOBODY01": "user_not_found", "U0GONE0001": "user_disabled"} {
		if _, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}}); slackErr(err) != want {
			t.Errorf("OpenConversation(%s) error = %v; want %s", user, err, want)
		}
	}
	if got := s.DMChannel(alice); got != "D0ALICE001" {
		t.Errorf("DMChannel(%q) = %q; want D0ALICE001", alice, got)
	}
}

func TestConversationsInfo(t *testing.T) {
	s := newServer(t, Options{})
	s.AddChannel("C0WITHBOT1", BotUserID, alice)
	s.AddChannel("C0NOBOT001", alice)
	s.AddChannel("G0PRIVATE1", alice)
	api := botAPI(s)
	tests := []struct {
		channel    string
		wantMember bool
		wantIM     bool
		wantErr    string
	}{
		{channel: "C0WITHBOT1", wantMember: true},
		{channel: "C0NOBOT001"},
		{channel: DMChannel(alice), wantIM: true},
		{channel: "G0PRIVATE1", wantErr: "channel_not_found"},
		{channel: "C0UNKNOWN1", wantErr: "channel_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			ch, err := api.GetConversationInfoContext(testContext(t), &slack.GetConversationInfoInput{ChannelID: tt.channel})
			if tt.wantErr != "" {
				if slackErr(err) != tt.wantErr {
					t.Errorf("GetConversationInfo(%q) error = %v; want %s", tt.channel, err, tt.wantErr)
				}
				return
			}
			if err != nil || ch.ID != tt.channel || ch.IsMember != tt.wantMember || ch.IsIM != tt.wantIM {
				t.Errorf("GetConversationInfo(%q) = %+v, %v; want is_member %v, is_im %v", tt.channel, ch, err, tt.wantMember, tt.wantIM)
			}
		})
	}
}

func TestUserGroupsUsersList(t *testing.T) {
	s := newServer(t, Options{})
	s.AddUserGroup("S0ADMINS01", alice, bob)
	s.AddUserGroup("S0EMPTY001")
	api := botAPI(s)
	ctx := testContext(t)
	if got, err := api.GetUserGroupMembersContext(ctx, "S0ADMINS01"); err != nil || strings.Join(got, ",") != alice+","+bob {
		t.Errorf("GetUserGroupMembers(S0ADMINS01) = %v, %v; want [%s %s]", got, err, alice, bob)
	}
	if got, err := api.GetUserGroupMembersContext(ctx, "S0EMPTY001"); err != nil || len(got) != 0 {
		t.Errorf("GetUserGroupMembers(S0EMPTY001) = %v, %v; want none", got, err)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "S0NONE0001"); slackErr(err) != "no_such_subteam" {
		t.Errorf("GetUserGroupMembers(unknown) error = %v; want no_such_subteam", err)
	}
}

func TestUnknownMethodAndRequestShapes(t *testing.T) {
	s := newServer(t, Options{})
	post := func(t *testing.T, method, contentType, body, bearer string) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.APIURL()+method, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("POST %s: decode answer: %v", method, err)
		}
		return out
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, contentType, body, bearer string
		wantErr                                 string // "" = ok:true
	}{
		{"unknown method", "nope.nothing", form, "token=" + BotToken, "", "unknown_method"},
		{"form token", "users.info", form, "token=" + BotToken + "&user=" + alice, "", ""},
		{"form with bearer", "users.info", form, "user=" + alice, BotToken, ""},
		{"json with bearer", "users.info", "application/json; charset=utf-8", `{"user":"` + alice + `"}`, BotToken, ""},
		{"json token in body is not read", "users.info", "application/json", `{"token":"` + BotToken + `","user":"` + alice + `"}`, "", "not_authed"},
		{"bad json", "users.info", "application/json", `{"user":`, BotToken, "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, tt.method, tt.contentType, tt.body, tt.bearer)
			if ok, _ := got["ok"].(bool); ok != (tt.wantErr == "") || got["error"] != nil && got["error"] != tt.wantErr {
				t.Errorf("POST %s = %v; want error %q", tt.method, got, tt.wantErr)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	clock := newFakeClock()
	s := newServer(t, Options{RateLimits: map[string]int{"users.info": 2}, Now: clock.Now})
	api := botAPI(s)
	ctx := testContext(t)
	get := func() error { _, err := api.GetUserInfoContext(ctx, alice); return err }

	for i := range 2 {
		if err := get(); err != nil {
			t.Fatalf("GetUserInfo() #%d error = %v", i+1, err)
		}
	}
	wantRetry := func(want time.Duration) {
		t.Helper()
		var rl *slack.RateLimitedError
		if err := get(); !errors.As(err, &rl) || rl.RetryAfter != want {
			t.Fatalf("GetUserInfo() over the limit error = %v; want *slack.RateLimitedError retry after %v", err, want)
		}
	}
	wantRetry(time.Minute)
	clock.Advance(30*time.Second + 200*time.Millisecond)
	wantRetry(30 * time.Second) // 29.8s, rounded up
	clock.Advance(30 * time.Second)
	if err := get(); err != nil {
		t.Fatalf("GetUserInfo() after the window error = %v", err)
	}
	// Other methods are unaffected.
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Errorf("AuthTest() error = %v", err)
	}

	calls := s.Calls("users.info")
	if len(calls) != 5 || calls[2].Status != http.StatusTooManyRequests || calls[2].Error != "ratelimited" {
		t.Errorf("Calls(users.info) = %+v; want the third answered 429 ratelimited", calls)
	}

	s.SetRateLimit("auth.test", 0)
	var rl *slack.RateLimitedError
	if _, err := api.AuthTestContext(ctx); !errors.As(err, &rl) {
		t.Errorf("AuthTest() with limit 0 error = %v; want rate limited", err)
	}
	s.SetRateLimit("auth.test", -1)
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Errorf("AuthTest() with the limit removed error = %v", err)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	s := newServer(t, Options{RateLimits: map[string]int{"auth.test": 0}})
	resp, err := http.PostForm(s.APIURL()+"auth.test", url.Values{"token": {BotToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" || body["error"] != "ratelimited" || body["ok"] != false {
		t.Errorf("rate-limited answer = %d, Retry-After %q, %v; want 429, 60, ratelimited", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

func TestPublishedTiers(t *testing.T) {
	tiers := PublishedTiers()
	for method := range methods {
		if tiers[method] <= 0 {
			t.Errorf("PublishedTiers()[%q] = %d; want a positive limit", method, tiers[method])
		}
	}
	if tiers["chat.postMessage"] != 60 {
		t.Errorf("PublishedTiers()[chat.postMessage] = %d; want 60", tiers["chat.postMessage"])
	}
	tiers["users.info"] = 1
	if PublishedTiers()["users.info"] == 1 {
		t.Error("PublishedTiers() returned a shared map")
	}
}

func TestFailNext(t *testing.T) {
	s := newServer(t, Options{})
	api := botAPI(s)
	tests := []struct {
		name  string
		fault Fault
		check func(error) bool
	}{
		{"429", Fault{Status: 429, RetryAfter: 3 * time.Second}, func(err error) bool {
			var rl *slack.RateLimitedError
			return errors.As(err, &rl) && rl.RetryAfter == 3*time.Second
		}},
		{"429 without delay", Fault{Status: 429}, func(err error) bool {
			var rl *slack.RateLimitedError
			return errors.As(err, &rl) && rl.RetryAfter == time.Second
		}},
		{"503", Fault{Status: 503}, func(err error) bool {
			var sc slack.StatusCodeError
			return errors.As(err, &sc) && sc.Code == http.StatusServiceUnavailable
		}},
		{"slack error", Fault{Error: "channel_not_found"}, func(err error) bool { return slackErr(err) == "channel_not_found" }},
		{"default error", Fault{}, func(err error) bool { return slackErr(err) == "internal_error" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s.FailNext("chat.postMessage", 2, tt.fault)
			for i := range 2 {
				if _, _, err := api.PostMessageContext(ctx, DMChannel(alice), slack.MsgOptionText("hi", false)); !tt.check(err) {
					t.Fatalf("PostMessage() #%d with fault %+v error = %v", i+1, tt.fault, err)
				}
			}
			if _, _, err := api.PostMessageContext(ctx, DMChannel(alice), slack.MsgOptionText("hi", false)); err != nil {
				t.Errorf("PostMessage() after the faults error = %v", err)
			}
		})
	}
}

func TestWaitCall(t *testing.T) {
	s := newServer(t, Options{})
	api := botAPI(s)
	ctx := testContext(t)
	if _, err := api.GetUserInfoContext(ctx, alice); err != nil {
		t.Fatal(err)
	}

	past, err := s.WaitCall(ctx, "users.info", func(c Call) bool { return c.Params.Get("user") == alice })
	if err != nil || past.Params.Get("user") != alice {
		t.Errorf("WaitCall(past) = %+v, %v", past, err)
	}

	type result struct {
		c   Call
		err error
	}
	future := make(chan result, 1)
	go func() {
		c, err := s.WaitCall(ctx, "users.info", func(c Call) bool { return c.Params.Get("user") == bob })
		future <- result{c, err}
	}()
	if _, err := api.GetUserInfoContext(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if r := <-future; r.err != nil || r.c.Params.Get("user") != bob {
		t.Errorf("WaitCall(future) = %+v, %v", r.c, r.err)
	}

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.WaitCall(short, "chat.update", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitCall(never) error = %v; want deadline exceeded", err)
	}
	s.Close()
	if _, err := s.WaitCall(ctx, "chat.update", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitCall(after Close) error = %v; want ErrClosed", err)
	}
	if _, err := s.WaitCall(ctx, "users.info", nil); err != nil {
		t.Errorf("WaitCall(past, after Close) error = %v; want the recorded call", err)
	}
}
