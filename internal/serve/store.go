package serve

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// Store is what the commands need of the store, whichever database
// holds it.
type Store interface {
	workflow.Store
	reminder.Store
	workflow.ReplicaStore
	Heartbeat(ctx context.Context, replicaID string, now time.Time, ttl time.Duration) (live int, err error)
	ForgetReplica(ctx context.Context, replicaID string) error
	Audit(ctx context.Context, since time.Time) ([]request.AuditEvent, error)
	Ping(ctx context.Context) error
	Close() error
	String() string // names it for the log, without a password
}

// OpenStore opens the store the configuration and environment choose:
// PostgreSQL at databaseURL (DATABASE_URL, which wins) or else at
// store.postgres_url, with PGPASSWORD / PGPASSFILE supplying what the URL
// leaves out; with neither, the SQLite file at store.path.
func OpenStore(ctx context.Context, cfg config.Config, databaseURL string, logger *slog.Logger) (Store, error) {
	url := databaseURL
	if url == "" {
		url = cfg.Store.PostgresURL
	}
	if url != "" {
		s, err := store.OpenPostgres(ctx, url, logger)
		if err != nil {
			return nil, err // not a nil *Postgres in a non-nil interface
		}
		return s, nil
	}
	s, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, err
	}
	return s, nil
}
