package serve

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// Accounts makes what the workflow needs of each account in aws.accounts:
// its clients (awsclient.ForAccount: the role assumed with own's STS
// client, with o's timeout, rate limit, retries and metrics), a resetter
// of its own (so each account's password policy is cached apart) and its
// sign-in URL (aws.accounts[].console_url, or the account ID's in the
// role's partition). It makes no call: a role that can't be assumed is
// found at its first use, and only that account's requests fail.
func Accounts(cfg config.Config, base aws.Config, own awsclient.Clients, o awsclient.Options, gen *password.Generator) (map[string]workflow.Account, map[string]awsclient.Clients) {
	if o.SessionName == "" {
		// Which replica: CloudTrail then names the pod or host that acted.
		host, _ := os.Hostname()
		o.SessionName = awsclient.BotSessionName(host)
	}
	accounts := make(map[string]workflow.Account, len(cfg.AWS.Accounts))
	clients := make(map[string]awsclient.Clients, len(cfg.AWS.Accounts))
	for _, a := range cfg.AWS.Accounts {
		c := awsclient.ForAccount(base, own, a, o)
		console := a.ConsoleURL
		if console == "" {
			console = reset.AccountSignInURL(a.Partition(), a.AccountID())
		}
		accounts[a.Name] = workflow.Account{
			ID: a.AccountID(), RoleARN: a.RoleARN, Resetter: reset.New(c.IAM, gen, reset.Options{}), ConsoleURL: console,
		}
		clients[a.Name] = c
	}
	return accounts, clients
}
