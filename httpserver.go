package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/songbot-dev/songbot/ops"
)

// newRegistry returns the registry /metrics serves: the Go runtime, the
// process, and songbot_build_info{version} for telling deployments apart.
// Besides the usual go_memstats_*, the runtime's go_gc_heap_live_bytes is
// there: the heap the last GC found in use, which, unlike a snapshot of
// the heap in use, does not swing with how much garbage awaits the next
// GC, so it shows whether memory grows over days.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "songbot_build_info",
			Help:        "Always 1; the version label is the running songbot's.",
			ConstLabels: prometheus.Labels{"version": buildVersion()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// readiness is what /readyz reports: the bot is connected with /song
// registered, and the store answers (see storeProbe).
func readiness(botReady func() bool, store interface{ Ping(context.Context) error }) func(context.Context) error {
	probe := &storeProbe{ping: store.Ping, now: time.Now}
	return func(ctx context.Context) error {
		if !botReady() {
			return errors.New("not connected to the Discord gateway (every shard of this process) or serving the interactions endpoint, with /song registered (yet)")
		}
		if err := probe.check(ctx); err != nil {
			return fmt.Errorf("the store does not answer, so /song is refused (check REDIS_URL, or DATA_DIR for the embedded store): %v", err)
		}
		return nil
	}
}

// How /readyz pings the store. The timeout is the admission's (1.5 s): a
// store slower than that refuses /song, so the bot is not ready. The answer
// is kept for a second so that probes from several load balancers or a
// tight kubelet period cost the store one PING a second at most.
const (
	storePingTimeout = 1500 * time.Millisecond
	storePingCache   = time.Second
)

// storeProbe pings the store for /readyz, at most once per storePingCache;
// concurrent probes wait for the ping in progress.
type storeProbe struct {
	ping func(context.Context) error
	now  func() time.Time

	mu  sync.Mutex
	at  time.Time // of the cached answer; zero: none yet
	err error
}

func (p *storeProbe) check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && p.now().Sub(p.at) < storePingCache {
		return p.err
	}
	pctx, cancel := context.WithTimeout(ctx, storePingTimeout)
	defer cancel()
	p.err = p.ping(pctx)
	if p.err == nil || ctx.Err() == nil {
		p.at = p.now() // a probe cancelled by its caller says nothing of the store
	}
	return p.err
}

// startHTTP starts the operator HTTP server on HTTP_ADDR, unless it is
// empty. The returned stop ends the server and returns its error.
//
// An address that cannot be bound is logged, not fatal: the bot still
// serves Discord users, and a second process on one machine (sharing
// Redis) should not fail over a port.
func startHTTP(ctx context.Context, addr string, log *slog.Logger, reg prometheus.Gatherer, ready func(context.Context) error) (stop func() error) {
	if addr == "" {
		log.Info("operator HTTP server off (HTTP_ADDR is empty)")
		return func() error { return nil }
	}
	log = log.With("component", "http")
	srv, err := ops.Listen(addr, ops.NewHandler(ready, reg), log)
	if err != nil {
		log.Error("operator HTTP server not started; the bot runs without /healthz, /readyz and /metrics: set HTTP_ADDR to a free host:port, or to empty to turn the server off",
			"HTTP_ADDR", addr, "err", err)
		return func() error { return nil }
	}
	log.Info("operator HTTP server listening", "addr", srv.Addr())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("operator HTTP server stopped; /healthz, /readyz and /metrics are down", "err", err)
		}
		done <- err
	}()
	return func() error {
		cancel()
		if err := <-done; err != nil {
			return fmt.Errorf("operator HTTP server (HTTP_ADDR %s): %w", addr, err)
		}
		return nil
	}
}
