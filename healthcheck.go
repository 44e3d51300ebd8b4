package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/songbot-dev/songbot/internal/secret"
)

// healthcheckTimeout bounds the whole probe: Docker's HEALTHCHECK and
// scripts want an answer, not a hang.
const healthcheckTimeout = 2 * time.Second

const healthcheckUsage = `usage: songbot healthcheck

Asks the running bot's operator server for GET /healthz on HTTP_ADDR (an
address without a host, or 0.0.0.0, is asked on loopback) and exits 0 when
it answers 200 within 2s, 1 otherwise. The image's Docker HEALTHCHECK runs
it; distroless has no curl. Kubernetes should probe /healthz (liveness) and
/readyz (readiness) over HTTP directly instead.
`

// runHealthcheck probes /healthz. Every failure exits 1, a bad HTTP_ADDR
// included: Docker reserves exit status 2.
func runHealthcheck(ctx context.Context, args []string, env lookupFunc, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	if err := noArgs(fs, args, healthcheckUsage, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := loadConfig(env, "HTTP_ADDR")
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	if cfg.HTTPAddr == "" {
		return errors.New("healthcheck: HTTP_ADDR is empty, so the bot serves no /healthz: set HTTP_ADDR to host:port (the image sets :8080)")
	}
	target, err := healthURL(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	// No proxy: the bot is on this machine, whatever HTTP_PROXY says.
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: no answer from %s within %v (%v): is the bot running, with this HTTP_ADDR?", target, healthcheckTimeout, secret.WithoutURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// songbot's /healthz answers nothing but 200, even while the bot
		// stops (only /readyz turns 503), so this is not the bot.
		return fmt.Errorf("healthcheck: %s answered %d; want 200: the bot's /healthz only ever answers 200, so another program answers on HTTP_ADDR %s: set HTTP_ADDR as the bot has it", target, resp.StatusCode, cfg.HTTPAddr)
	}
	fmt.Fprintf(stdout, "ok: %s answered 200\n", target)
	return nil
}

// healthURL is the /healthz URL for the server listening on addr.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: HTTP_ADDR is %q, not host:port: set it as the bot has it, e.g. 127.0.0.1:8080 or :8080", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
