package livecheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/manifest"
)

// BotSlack is what the checks ask Slack with the bot token.
type BotSlack interface {
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
	GetConversationInfoContext(ctx context.Context, in *slack.GetConversationInfoInput) (*slack.Channel, error)
}

// AppSlack is what the checks ask Slack with the app-level token.
type AppSlack interface {
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
	StartSocketModeContext(ctx context.Context) (*slack.SocketModeConnection, string, error)
}

// Names of the Slack checks.
const (
	checkBotToken   = "slack bot token"
	checkBotScopes  = "slack bot scopes"
	checkAppToken   = "slack app-level token"
	checkSocketMode = "slack socket mode"
)

func (c Checker) checkSlack(ctx context.Context, r *Report) {
	if c.SlackErr != nil || c.BotSlack == nil || c.AppSlack == nil {
		setupFailed(r, "slack tokens", c.SlackErr)
		r.add(Skip, "slack", "not checked: set %s and %s first", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
		return
	}
	bot := c.checkBotToken(ctx, r)
	c.checkAppToken(ctx, r, bot)
	c.checkChannels(ctx, r, bot)
}

// checkBotToken calls auth.test with the bot token. It returns the answer,
// nil when Slack refused the token.
func (c Checker) checkBotToken(ctx context.Context, r *Report) *slack.AuthTestResponse {
	cctx, cancel := c.slackCall(ctx)
	defer cancel()
	auth, err := c.BotSlack.AuthTestContext(cctx)
	if err != nil {
		r.add(Fail, checkBotToken, "auth.test: %s", tokenAdvice(err, botTokenPlace))
		return nil
	}
	r.add(Pass, checkBotToken, "workspace %q (%s), bot user @%s (%s)", auth.Team, auth.TeamID, auth.User, auth.UserID)

	// Slack names a token's scopes in a header of every answer; compare
	// them with the manifest's, when it does.
	if header := auth.Header.Get("X-OAuth-Scopes"); header != "" {
		granted := map[string]bool{}
		for s := range strings.SplitSeq(header, ",") {
			if s = strings.TrimSpace(s); s != "" {
				granted[s] = true
			}
		}
		var missing, extra []string
		want := manifest.Scopes(c.Config)
		for _, s := range want {
			if !granted[s] {
				missing = append(missing, s)
			}
		}
		for s := range granted {
			if !slices.Contains(want, s) {
				extra = append(extra, s)
			}
		}
		slices.Sort(extra)
		switch {
		case len(missing) > 0:
			r.add(Fail, checkBotScopes, "the bot token lacks %s: update the app from \"bot manifest\" and reinstall it",
				strings.Join(missing, ", "))
		default:
			r.add(Pass, checkBotScopes, "the token has the manifest's scopes")
		}
		if len(extra) > 0 {
			r.add(Warn, checkBotScopes, "the token also has %s, which the bot never uses: a leaked token could do more than it need;"+
				" update the app from \"bot manifest\" and reinstall it", strings.Join(extra, ", "))
		}
	}
	return auth
}

// checkAppToken calls auth.test and apps.connections.open with the
// app-level token. The second is what Socket Mode starts with, so its
// answer is the proof that the bot will connect; the URL it returns is
// good for one connection and is neither used nor printed.
func (c Checker) checkAppToken(ctx context.Context, r *Report, bot *slack.AuthTestResponse) {
	cctx, cancel := c.slackCall(ctx)
	auth, err := c.AppSlack.AuthTestContext(cctx)
	cancel()
	switch code, isSlack := slackError(err); {
	case err == nil && bot != nil && auth.TeamID != "" && auth.TeamID != bot.TeamID:
		r.add(Fail, checkAppToken, "workspace %s, but the bot token's is %s: take both tokens from the same app", auth.TeamID, bot.TeamID)
	case err == nil:
		r.add(Pass, checkAppToken, "workspace %q (%s)", auth.Team, auth.TeamID)
	case isSlack && code == "not_allowed_token_type":
		r.add(Skip, checkAppToken, "Slack does not answer auth.test for app-level tokens; apps.connections.open below tests it")
	default:
		r.add(Fail, checkAppToken, "auth.test: %s", tokenAdvice(err, appTokenPlace))
	}

	cctx, cancel = c.slackCall(ctx)
	defer cancel()
	_, url, err := c.AppSlack.StartSocketModeContext(cctx)
	_, refused := tokenRefused(err)
	switch {
	case refused:
		r.add(Fail, checkSocketMode, "apps.connections.open: %s", tokenAdvice(err, appTokenPlace))
	case err != nil:
		r.add(Fail, checkSocketMode, "apps.connections.open: %v: the app-level token needs the %s scope,"+
			" and the app needs Socket Mode on (the manifest from \"bot manifest\" turns it on)", err, manifest.AppLevelScope)
	case url == "":
		r.add(Fail, checkSocketMode, "apps.connections.open answered without a WebSocket URL")
	default:
		r.add(Pass, checkSocketMode, "apps.connections.open handed out a WebSocket URL: the bot can connect")
	}
}

// checkChannels asks whether the bot is in the channels it posts to: it
// cannot post in a channel it has not been invited to.
func (c Checker) checkChannels(ctx context.Context, r *Report, bot *slack.AuthTestResponse) {
	type target struct{ fields, id string }
	var targets []target
	all := []target{{"approval.channel", c.Config.Approval.Channel}, {"audit.channel", c.Config.Audit.Channel}}
	for i, a := range c.Config.AWS.Accounts {
		if a.Approval != nil && a.Approval.Channel != nil {
			all = append(all, target{fmt.Sprintf("aws.accounts[%d].approval.channel", i), *a.Approval.Channel})
		}
	}
	for _, t := range all {
		if t.id == "" {
			continue
		}
		if i := slices.IndexFunc(targets, func(o target) bool { return o.id == t.id }); i >= 0 {
			targets[i].fields += ", " + t.fields
			continue
		}
		targets = append(targets, t)
	}
	for _, t := range targets {
		check := t.fields + " " + t.id
		if bot == nil {
			r.add(Skip, check, "not checked: Slack refused the bot token")
			continue
		}
		cctx, cancel := c.slackCall(ctx)
		ch, err := c.BotSlack.GetConversationInfoContext(cctx, &slack.GetConversationInfoInput{ChannelID: t.id})
		cancel()
		invite := fmt.Sprintf("type /invite @%s in the channel", bot.User)
		code, isSlack := slackError(err)
		switch {
		case isSlack && code == "channel_not_found":
			r.add(Fail, check, "Slack shows the bot no such channel: check the ID (channel details → About), and if the channel is private, %s", invite)
		case isSlack && code == "missing_scope":
			r.add(Skip, check, "the bot token lacks %s, which this check needs: update the app from \"bot manifest\" and reinstall it,"+
				" or make sure by hand that the bot is in the channel", neededScopes(err))
		case err != nil:
			r.add(Fail, check, "conversations.info: %v", err)
		case ch.IsArchived:
			r.add(Fail, check, "#%s is archived: nothing can be posted there", ch.Name)
		case !ch.IsMember:
			r.add(Fail, check, "the bot is not in #%s, so it cannot post there: %s", ch.Name, invite)
		default:
			r.add(Pass, check, "the bot is in #%s", ch.Name)
		}
	}
}

// slackError returns the error code of a Slack ok:false answer.
func slackError(err error) (code string, ok bool) {
	e, ok := errors.AsType[slack.SlackErrorResponse](err)
	return e.Err, ok
}

func neededScopes(err error) string {
	if e, ok := errors.AsType[slack.SlackErrorResponse](err); ok && e.Needed != "" {
		return e.Needed
	}
	return manifest.ScopeChannelsRead + " or " + manifest.ScopeGroupsRead
}

// Where the app's settings (https://api.slack.com/apps) show each token.
const (
	botTokenPlace = "Install App → Bot User OAuth Token (xoxb-…)"
	appTokenPlace = "Basic Information → App-Level Tokens (xapp-…, with " + manifest.AppLevelScope + ")"
)

// tokenRefused reports whether Slack refused the token itself.
func tokenRefused(err error) (code string, refused bool) {
	code, _ = slackError(err)
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return code, true
	}
	return code, false
}

// tokenAdvice explains a failed call, saying where the right token is
// when Slack refused the token itself.
func tokenAdvice(err error, where string) string {
	if code, refused := tokenRefused(err); refused {
		return fmt.Sprintf("Slack refused the token (%s): copy it again from the app's settings, %s", code, where)
	}
	return err.Error()
}
