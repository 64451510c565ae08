// Package health serves the operator's endpoints: /healthz (the process is
// alive), /readyz (every readiness check passes) and /metrics (Prometheus).
package health

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Checks are named readiness checks; each returns nil when ready.
type Checks map[string]func(context.Context) error

// Handler returns the mux for the three endpoints.
func Handler(ready Checks, gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		names := make([]string, 0, len(ready))
		for name := range ready {
			names = append(names, name)
		}
		sort.Strings(names)
		status, body := http.StatusOK, ""
		for _, name := range names {
			if err := ready[name](ctx); err != nil {
				status = http.StatusServiceUnavailable
				body += fmt.Sprintf("%s: %v\n", name, err)
			} else {
				body += name + ": ok\n"
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	return mux
}
