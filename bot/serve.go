package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/health"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
)

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("run", stderr)
	dryRun := fs.Bool("dry-run", false, "do everything but the IAM write: check the login profile and say what would happen")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	if *dryRun {
		cfg.Reset.DryRun = true
	}
	secrets, err := loadSecrets(getenv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, secrets, logger, serveOptions{})
}

// loadSecrets reads the tokens from the environment, printing every
// problem (never a token).
func loadSecrets(getenv func(string) string, stderr io.Writer) (config.Secrets, error) {
	secrets, err := config.SecretsFromEnv(getenv)
	if err != nil {
		for _, line := range config.Problems(err) {
			fmt.Fprintln(stderr, line)
		}
		return secrets, errReported
	}
	return secrets, nil
}

// consoleURL is aws.console_url, or else the sign-in URL looked up from
// the account alias or ID.
func consoleURL(ctx context.Context, cfg config.Config, iamClient reset.AccountAPI, stsClient reset.CallerAPI, region string) (string, error) {
	if cfg.AWS.ConsoleURL != "" {
		return cfg.AWS.ConsoleURL, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.AWS.CallTimeout.D())
	defer cancel()
	u, err := reset.SignInURL(ctx, iamClient, stsClient, region)
	if err != nil {
		return "", fmt.Errorf("%w (set aws.console_url to skip this look-up)", err)
	}
	return u, nil
}

// serveOptions are the knobs that tests and the demo turn.
type serveOptions struct {
	awsOptions []func(*awsconfig.LoadOptions) error
	retry      reset.RetryOptions
	bot        func(*slackbot.Options)
	ready      chan<- *slackbot.Bot // receives the bot once it is built
}

// serve wires the bot together from the configuration and runs it until
// ctx ends.
func serve(ctx context.Context, cfg config.Config, secrets config.Secrets, logger *slog.Logger, so serveOptions) error {
	awsCfg, err := loadAWS(ctx, cfg, so.awsOptions...)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(registry)

	// aws.max_calls_per_second paces every IAM attempt, retries included,
	// whoever makes it: resets, reminders, the sign-in URL look-up.
	iamClient := reset.NewIAMClient(awsCfg, so.retry, metrics.AWSMiddleware(m), reset.RateLimit(cfg.AWS.MaxCallsPerSecond),
		reset.CallTimeout(cfg.AWS.CallTimeout.D()))
	stsClient := sts.NewFromConfig(awsCfg, func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, metrics.AWSMiddleware(m), reset.CallTimeout(cfg.AWS.CallTimeout.D()))
	})

	signIn, err := consoleURL(ctx, cfg, iamClient, stsClient, awsCfg.Region)
	if err != nil {
		return err
	}

	gen, err := password.NewGenerator(cfg.Reset.PasswordLength)
	if err != nil {
		return err
	}
	resetter := reset.New(iamClient, gen, reset.Options{})

	st, err := openStore(ctx, cfg, secrets.DatabaseURL, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	opts := slackbot.Options{
		Config:     cfg,
		Secrets:    secrets,
		Resetter:   resetter,
		Store:      st,
		ConsoleURL: signIn,
		Logger:     logger,
		Metrics:    m,
	}
	if so.bot != nil {
		so.bot(&opts)
	}
	bot, err := slackbot.New(opts)
	if err != nil {
		return err
	}
	if so.ready != nil {
		so.ready <- bot
	}

	if cfg.HTTP.Addr != "" {
		stopHTTP, err := startHTTP(cfg.HTTP.Addr, health.Handler(health.Checks{
			"slack": func(context.Context) error {
				if !bot.Ready() {
					return errors.New("socket mode is not connected")
				}
				return nil
			},
			"store": st.Ping,
		}, registry), logger)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}

	if cfg.Reminders.Enabled {
		stopReminders, err := startReminders(ctx, reminderOptions(cfg, secrets, iamClient, st, signIn, logger, m))
		if err != nil {
			return err
		}
		defer stopReminders()
	}

	logger.Info("aws-reset-bot starting", slog.String("version", Version), slog.Int("listed_users", len(cfg.Users)),
		slog.Bool("approval", cfg.Approval.Enabled()), slog.String("store", st.String()),
		slog.Bool("dry_run", cfg.Reset.DryRun), slog.String("console_url", signIn))
	err = bot.Run(ctx)
	logger.Info("aws-reset-bot stopped")
	return err
}

// loadAWS loads the SDK's default chain: environment, shared config and
// profiles, web identity (IRSA), instance roles; AWS_ENDPOINT_URL_IAM too.
func loadAWS(ctx context.Context, cfg config.Config, extra ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{}
	if cfg.AWS.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.AWS.Region))
	}
	opts = append(opts, extra...)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1" // IAM is global; the region only signs requests
	}
	return awsCfg, nil
}

// startHTTP serves the health and metrics endpoints until stop is called.
func startHTTP(addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on http.addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", slog.Any("error", err))
		}
	}()
	logger.Info("serving /healthz, /readyz and /metrics", slog.String("addr", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// newLogger builds the process logger from log.format and log.level.
func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
