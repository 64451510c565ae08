package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
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
	accountName := fs.String("account-name", "", "print the permission policy of the role in the aws.accounts entry `NAME` instead")
	trust := fs.Bool("trust", false, "with --account-name: print the role's trust policy instead (needs --principal)")
	principal := fs.String("principal", "", "the `ARN` of the bot's own identity (role or user), for --trust and --cloudformation")
	cloudFormation := fs.Bool("cloudformation", false, "print a CloudFormation template that makes the role in each account of aws.accounts (for a StackSet)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *trust && (*accountName == "" || *principal == "") {
		fmt.Fprintln(stderr, "--trust needs --account-name and --principal")
		return errUsage
	}
	if *principal != "" && !iampolicy.IsPrincipalARN(*principal) {
		fmt.Fprintf(stderr, "--principal: %q is not an IAM role or user ARN\n", *principal)
		return errUsage
	}
	if *accountName != "" || *cloudFormation {
		cfg, err := loadConfig(*path, stderr)
		if err != nil {
			return err
		}
		return accountPolicy(cfg, *accountName, *principal, *trust, *cloudFormation, stdout, stderr)
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
	doc := iampolicy.BuildOwn(cfg, *account, *partition)
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

// accountPolicy prints what a role in aws.accounts needs: its permission
// policy, its trust policy, or the CloudFormation template for all.
func accountPolicy(cfg config.Config, name, principal string, trust, cloudFormation bool, stdout, stderr io.Writer) error {
	var out []byte
	var err error
	switch {
	case cloudFormation:
		if principal == "" {
			fmt.Fprintln(stderr, "note: pass --principal ARN (the bot's own role or user) to fill the BotPrincipalArn parameter's default.")
		}
		out, err = iampolicy.CloudFormation(cfg, principal)
	case trust:
		doc, ok := iampolicy.Trust(cfg, name, principal)
		if !ok {
			return fmt.Errorf("--account-name: %q is not in aws.accounts", name)
		}
		out, err = doc.JSON()
	default:
		doc, ok := iampolicy.BuildAccount(cfg, name)
		if !ok {
			return fmt.Errorf("--account-name: %q is not in aws.accounts", name)
		}
		out, err = doc.JSON()
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
