package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/songbot-dev/songbot/ops"
)

// newRegistry returns the registry /metrics serves: the Go runtime, the
// process, and songbot_build_info{version} for telling deployments apart.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
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
// registered, and the store answers.
func readiness(botReady func() bool, store interface{ Ping(context.Context) error }) func(context.Context) error {
	return func(ctx context.Context) error {
		if !botReady() {
			return errors.New("not connected to the Discord gateway (every shard of this process) or serving the interactions endpoint, with /song registered (yet)")
		}
		if err := store.Ping(ctx); err != nil {
			return fmt.Errorf("the store does not answer: %v", err)
		}
		return nil
	}
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
