package main

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/livecheck"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// liveCheck is "bot check --live": it asks Slack and AWS, with the tokens
// and credentials the bot would run with, whether the bot will work, and
// prints the checklist. Only a FAIL makes it return an error.
func liveCheck(ctx context.Context, cfg config.Config, stdout io.Writer, getenv func(string) string) error {
	c := livecheck.Checker{Config: cfg, CallTimeout: cfg.AWS.CallTimeout.D()}
	secrets, err := config.SecretsFromEnv(getenv)
	if err != nil {
		c.SlackErr = err
	} else {
		c.BotSlack = slack.New(secrets.BotToken, slack.OptionAPIURL(cfg.Slack.APIURL))
		c.AppSlack = slack.New(secrets.AppToken, slack.OptionAPIURL(cfg.Slack.APIURL), slack.OptionAppLevelToken(secrets.AppToken))
	}
	awsCfg, err := loadAWS(ctx, cfg)
	if err != nil {
		c.AWSErr = err
	} else {
		c.IAM = reset.NewIAMClient(awsCfg, reset.RetryOptions{})
		c.STS = sts.NewFromConfig(awsCfg)
	}

	report := c.Run(ctx)
	if err := report.Print(stdout); err != nil {
		return err
	}
	if report.Failed() {
		return errReported
	}
	return nil
}
