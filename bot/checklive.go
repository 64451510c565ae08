package main

import (
	"context"
	"io"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/livecheck"
)

// liveCheck is "bot check --live": it asks Slack and AWS, with the tokens
// and credentials the bot would run with, whether the bot will work, and
// prints the checklist. Only a FAIL makes it return an error.
func liveCheck(ctx context.Context, cfg config.Config, stdout io.Writer, getenv func(string) string) error {
	c := livecheck.Checker{Config: cfg, SlackCallTimeout: cfg.AWS.CallTimeout.D()}
	secrets, err := config.SecretsFromEnv(getenv)
	if err != nil {
		c.SlackErr = err
	} else {
		c.BotSlack = slack.New(secrets.BotToken, slack.OptionAPIURL(cfg.Slack.APIURL))
		c.AppSlack = slack.New(secrets.AppToken, slack.OptionAPIURL(cfg.Slack.APIURL), slack.OptionAppLevelToken(secrets.AppToken))
	}
	awsCfg, err := awsclient.Load(ctx, cfg.AWS)
	if err != nil {
		c.AWSErr = err
	} else {
		opts := awsclient.FromConfig(cfg.AWS, nil)
		clients := awsclient.New(awsCfg, opts)
		c.IAM, c.STS = clients.IAM, clients.STS
		for _, a := range cfg.AWS.Accounts {
			ac := awsclient.ForAccount(awsCfg, clients, a, opts)
			c.Accounts = append(c.Accounts, livecheck.Account{Name: a.Name, RoleARN: a.RoleARN, IAM: ac.IAM, STS: ac.STS})
		}
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
