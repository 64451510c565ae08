package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
	"github.com/aws-reset-bot/aws-reset-bot/internal/workflow"
)

// newReplica names this process among the bot's replicas: the host name
// (the pod's, on Kubernetes) and a random suffix, new at every start, so
// a restarted pod is not taken for the one that died.
func newReplica(cfg config.Config, st Store) *workflow.Replica {
	host, _ := os.Hostname()
	if len(host) > 40 {
		host = host[:40]
	}
	b := make([]byte, 4)
	rand.Read(b) // never fails; see crypto/rand.Read
	_, solo := st.(*store.SQLite)
	return &workflow.Replica{ID: host + "-" + hex.EncodeToString(b), Store: st, TTL: cfg.Store.ReplicaTimeout.D(), Solo: solo}
}

// replicaSink hears what each heartbeat learns: *slackbot.Bot.
type replicaSink interface {
	SetReplicas(n int)
	SetStoreReachable(ok bool)
}

var _ replicaSink = (*slackbot.Bot)(nil)

// startHeartbeats sends this replica's heartbeat now and every third of
// the replica timeout until stop is called (not when ctx ends). Each one tells the bot how many
// replicas are alive (it paces Slack calls at its share, and /metrics shows
// the count) and whether the store answers (while it does not, commands
// start nothing). stop waits for the loop, then removes this replica from
// the live ones, so the others take up what it left at once.
func startHeartbeats(ctx context.Context, st Store, r *workflow.Replica, bot replicaSink, logger *slog.Logger) (stop func()) {
	// Beat on after ctx ends, while the bot finishes the work in flight:
	// a replica that stopped beating would see that work taken over.
	ctx = context.WithoutCancel(ctx)
	every := r.TTL / 3
	reachable := true
	beat := func() {
		bctx, cancel := context.WithTimeout(ctx, every)
		defer cancel()
		live, err := r.Beat(bctx, time.Now()) // the workflow learns how long it may act on what it holds
		if err != nil {
			if reachable {
				logger.Error("the store does not answer: refusing new requests until it does", slog.Any("error", err))
			}
			reachable = false
			bot.SetStoreReachable(false)
			return
		}
		if !reachable {
			logger.Info("the store answers again: taking requests")
		}
		reachable = true
		bot.SetStoreReachable(true)
		bot.SetReplicas(live)
	}
	beat()
	logger.Info("replica registered", slog.String("replica_id", r.ID), slog.Duration("replica_timeout", r.TTL))

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				beat()
			}
		}
	}()
	return func() {
		cancel()
		<-done
		fctx, fcancel := context.WithTimeout(ctx, 5*time.Second)
		defer fcancel()
		if err := st.ForgetReplica(fctx, r.ID); err != nil {
			logger.Warn("could not deregister this replica; the others take up its work once its heartbeat is stale", slog.Any("error", err))
		}
	}
}
