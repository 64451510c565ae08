// Package serve wires the bot together from its configuration and runs it:
// the body of "bot run", shared with the demo (bot/demo) and the load
// generator (bot/loadtest) so that they run the bot exactly as deployed,
// with only the endpoints and the knobs in Options changed.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/health"
	"github.com/aws-reset-bot/aws-reset-bot/internal/metrics"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/startup"
)

// ConsoleURL is aws.console_url, or else the sign-in URL looked up from
// the account alias or ID.
func ConsoleURL(ctx context.Context, cfg config.Config, iamClient reset.AccountAPI, stsClient reset.CallerAPI, region string) (string, error) {
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

// Options are the knobs that the demo, the load generator and tests turn;
// "bot run" sets only Version.
type Options struct {
	Version    string                               // logged at start
	AWSOptions []func(*awsconfig.LoadOptions) error // after the default chain's, e.g. a fake's endpoint
	Retry      awsclient.RetryOptions
	Bot        func(*slackbot.Options) // changes the bot's options before it is built
	Ready      chan<- *slackbot.Bot    // receives the bot once it is built
	// Startup tunes how AWS and Slack are waited for at start; tests
	// shorten it.
	Startup startup.Options
}

// Run wires the bot together from the configuration and runs it until
// ctx ends. The health endpoints come up first, so /healthz answers from
// the first second and /readyz says what the bot still waits for while AWS
// or Slack are unreachable at start: outages are waited out with back-off
// (package startup), not crashed on, and a definitive failure (no
// credentials, a refused identity or token) ends the start with one line.
func Run(ctx context.Context, cfg config.Config, secrets config.Secrets, logger *slog.Logger, so Options) error {
	awsCfg, err := awsclient.Load(ctx, cfg.AWS, so.AWSOptions...)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(registry)

	status := &startup.Status{}
	start := so.Startup
	start.Status, start.Logger = status, logger
	for _, dep := range []string{"aws", "store", "slack"} {
		status.Set(dep, errors.New("not checked yet"))
	}
	var bot atomic.Pointer[slackbot.Bot]
	var st atomic.Pointer[Store]
	if cfg.HTTP.Addr != "" {
		stopHTTP, err := startHTTP(cfg.HTTP.Addr, health.Handler(health.Checks{
			"aws": status.Check("aws"),
			"store": func(ctx context.Context) error {
				if err := status.Check("store")(ctx); err != nil {
					return err
				}
				return (*st.Load()).Ping(ctx)
			},
			"slack": func(ctx context.Context) error {
				if b := bot.Load(); b != nil {
					return b.Check(ctx)
				}
				return status.Check("slack")(ctx)
			},
		}, registry), logger)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}

	// One IAM client for resets, reminders and the sign-in URL look-up, so
	// aws.max_calls_per_second paces all of them together.
	awsOpts := awsclient.FromConfig(cfg.AWS, m)
	awsOpts.Retry = so.Retry
	clients := awsclient.New(awsCfg, awsOpts)
	iamClient := clients.IAM

	signIn, err := awsIdentity(ctx, cfg, awsCfg, clients, start)
	if err != nil {
		if ctx.Err() != nil && !startup.IsDefinitive(err) {
			return nil // stopped while waiting
		}
		return err
	}

	gen, err := password.NewGenerator(cfg.Reset.PasswordLength)
	if err != nil {
		return err
	}
	resetter := reset.New(iamClient, gen, reset.Options{})
	accounts, accountClients := Accounts(cfg, awsCfg, clients, awsOpts, gen)

	var store Store
	err = startup.Wait(ctx, start, "store", func(ctx context.Context) error {
		var err error
		store, err = OpenStore(ctx, cfg, secrets.DatabaseURL, logger)
		if err != nil && !storeUnreachable(err) {
			return startup.Definitive(err) // a bad path, a newer schema: no wait mends it
		}
		if err == nil {
			st.Store(&store)
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil && !startup.IsDefinitive(err) {
			return nil
		}
		return err
	}
	defer store.Close()

	replica := newReplica(cfg, store)
	opts := slackbot.Options{
		Replica:    replica,
		Config:     cfg,
		Secrets:    secrets,
		Resetter:   resetter,
		Store:      store,
		ConsoleURL: signIn,
		Accounts:   accounts,
		Logger:     logger,
		Metrics:    m,
	}
	if so.Bot != nil {
		so.Bot(&opts)
	}
	opts.Startup = start
	b, err := slackbot.New(opts)
	if err != nil {
		return err
	}
	bot.Store(b)
	if so.Ready != nil {
		so.Ready <- b
	}

	stopBeats := startHeartbeats(ctx, store, replica, b, logger)
	defer stopBeats()

	if cfg.Reminders.Enabled {
		for _, ro := range EveryAccountReminders(cfg, secrets, iamClient, signIn, accounts, accountClients, store, logger, m) {
			stopReminders, err := startReminders(ctx, ro)
			if err != nil {
				return err
			}
			defer stopReminders()
		}
	}

	logger.Info("aws-reset-bot starting", slog.String("version", so.Version), slog.Int("listed_users", len(cfg.Users)),
		slog.Int("aws_accounts", len(cfg.AWS.Accounts)), slog.Bool("approval", cfg.Approval.Enabled()), slog.String("store", store.String()),
		slog.Bool("dry_run", cfg.Reset.DryRun), slog.String("console_url", signIn))
	err = b.Run(ctx)
	logger.Info("aws-reset-bot stopped")
	return err
}

// storeUnreachable reports whether opening the store failed for want of
// the database server (PostgreSQL down or unreachable), which a wait mends.
func storeUnreachable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded)
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
