package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/serve"
)

// auditCommand prints the audit trail from the store.
func auditCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("audit", stderr)
	since := config.Duration(24 * time.Hour)
	fs.Var(&since, "since", "print the events of the last `DURATION`, e.g. 36h or 7d")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	if getenv == nil { // tests that set no environment
		getenv = func(string) string { return "" }
	}
	databaseURL, err := config.DatabaseURLFromEnv(getenv)
	if err != nil {
		return err
	}
	st, err := serve.OpenStore(ctx, cfg, databaseURL, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	events, err := st.Audit(ctx, time.Now().Add(-since.D()))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	// ACCOUNT is aws.accounts[].name; "-" is the bot's own account.
	fmt.Fprintln(tw, "TIME\tREQUEST\tACTION\tACTOR\tTARGET\tIAM USER\tACCOUNT\tOUTCOME\tREASON")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), dash(e.RequestID), e.Action,
			dash(e.Actor), dash(e.Target), dash(e.IAMUser), dash(e.Account), dash(e.Outcome), dash(printable(e.Reason)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printable is a requester's reason made safe for a terminal: on one line,
// with no control characters (escape sequences, tabs that would break the
// columns).
func printable(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
