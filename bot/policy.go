package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws-reset-bot/aws-reset-bot/internal/iampolicy"
)

// policyCommand prints the least-privilege IAM policy for the bot's own
// identity. The policy alone goes to stdout, so it can be piped to a file
// or to the AWS CLI; notes on what to check go to stderr. It reads only
// the config file: no credentials, no network.
func policyCommand(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, path := newFlags("policy", stderr)
	account := fs.String("account", "", "the 12-digit AWS account `ID` the bot runs in (default: the placeholder "+iampolicy.AccountPlaceholder+")")
	partition := fs.String("partition", "", "the AWS `PARTITION`: "+strings.Join(iampolicy.Partitions, ", ")+" (default: that of aws.region, else aws)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	var bad bool
	if *account != "" && !iampolicy.IsAccountID(*account) {
		fmt.Fprintf(stderr, "--account: %q is not a 12-digit AWS account ID\n", *account)
		bad = true
	}
	if *partition != "" && !iampolicy.IsPartition(*partition) {
		fmt.Fprintf(stderr, "--partition: %q is not an AWS partition (want one of %s)\n", *partition, strings.Join(iampolicy.Partitions, ", "))
		bad = true
	}
	if bad {
		return errUsage // a flag's value is wrong: as for a wrong flag, exit 2
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	if *partition == "" {
		*partition = iampolicy.PartitionOf(cfg.AWS.Region)
	}
	doc := iampolicy.Build(cfg, *account, *partition)
	out, err := doc.JSON()
	if err != nil {
		return err
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}

	if *account == "" {
		fmt.Fprintf(stderr, "note: %s in the ARNs is a placeholder: pass --account 123456789012, or replace it, before use.\n",
			iampolicy.AccountPlaceholder)
	}
	fmt.Fprintln(stderr, "note: each listed user is named by the exact ARN user/NAME. That matches users at the default\n"+
		"  path \"/\" only: a user under a path (see aws iam get-user) needs user/PATH/NAME instead.\n"+
		"  ARNs match case-sensitively: spell each iam_user as IAM shows it.")
	if left := iampolicy.LeftOut(cfg); len(left) > 0 {
		fmt.Fprintf(stderr, "note: left out, as reset.protected covers them: %s.\n", strings.Join(left, ", "))
	}
	switch size := doc.Size(); {
	case size > iampolicy.MaxInlineRolePolicySize:
		fmt.Fprintf(stderr, "warning: the policy is %d characters, over IAM's limit of %d for a role's inline policies;"+
			" split the users across policies.\n", size, iampolicy.MaxInlineRolePolicySize)
	case size > iampolicy.MaxManagedPolicySize:
		fmt.Fprintf(stderr, "warning: the policy is %d characters, over IAM's limit of %d for a managed policy;"+
			" attach it as an inline role policy (limit %d) instead.\n", size, iampolicy.MaxManagedPolicySize, iampolicy.MaxInlineRolePolicySize)
	}
	return nil
}
