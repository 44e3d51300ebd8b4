package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/songbot-dev/songbot/internal/testkit"
)

// noJitter makes backoff.wait return its upper bound.
func noJitter(n time.Duration) time.Duration { return n - 1 }

func restError(status int) error {
	return &discordgo.RESTError{Response: &http.Response{StatusCode: status}}
}

var netErr = &url.Error{Op: "Get", URL: "https://discord.com/api/v9/users/@me", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	t.Parallel()
	b := backoff{min: 500 * time.Millisecond, max: 4 * time.Second, jitter: noJitter}
	for attempt, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 4: 4 * time.Second, 30: 4 * time.Second} {
		if got := b.wait(attempt); got != want {
			t.Errorf("wait(%d) = %v; want %v", attempt, got, want)
		}
	}
	b.jitter = func(time.Duration) time.Duration { return 0 }
	if got := b.wait(30); got != 2*time.Second {
		t.Errorf("wait(30) with no jitter = %v; want half the cap, 2s", got)
	}
}

func TestAwaitDiscordRetriesNetworkErrorsThenSucceeds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		errs := []error{netErr, restError(503), netErr}
		var calls []time.Time
		probe := func(context.Context) error {
			calls = append(calls, time.Now())
			if len(calls) <= len(errs) {
				return errs[len(calls)-1]
			}
			return nil
		}
		var logs testkit.Buffer
		b := backoff{min: time.Second, max: 3 * time.Second, jitter: noJitter}
		if err := awaitDiscord(t.Context(), probe, "https://discord.com", slog.New(slog.NewTextHandler(&logs, nil)), b); err != nil {
			t.Fatalf("awaitDiscord() = %v; want nil once Discord answers", err)
		}
		if len(calls) != 4 {
			t.Fatalf("awaitDiscord() probed %d times; want 4", len(calls))
		}
		for i, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
			if got := calls[i+1].Sub(calls[i]); got != want {
				t.Errorf("wait before attempt %d = %v; want %v", i+2, got, want)
			}
		}
		if n := strings.Count(logs.String(), "check the network and DISCORD_API_URL"); n != 3 {
			t.Errorf("logged %d retries saying what to check; want 3:\n%s", n, logs.String())
		}
		if strings.Contains(logs.String(), "users/@me") {
			t.Errorf("the log shows the request URL:\n%s", logs.String())
		}
	})
}

func TestAwaitDiscordStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		cancel bool
		want   string
	}{
		{"token rejected", restError(401), false, "rejected DISCORD_TOKEN (401)"},
		{"wrong origin", restError(404), false, "answered 404 when asked who the bot is: check DISCORD_API_URL"},
		{"stopped while retrying", netErr, true, context.Canceled.Error()},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			calls := 0
			probe := func(context.Context) error {
				calls++
				if tt.cancel {
					cancel()
				}
				return tt.err
			}
			err := awaitDiscord(ctx, probe, "https://discord.com", slog.New(slog.DiscardHandler), startupBackoff())
			if err == nil || !strings.Contains(err.Error(), tt.want) || calls != 1 {
				t.Errorf("%s: awaitDiscord() = %v after %d probes; want %q after 1", tt.name, err, calls, tt.want)
			}
		})
	}
}

func TestGatewayProblemNamesTheToken(t *testing.T) {
	t.Parallel()
	wrapped := fmt.Errorf("discord: connect to the gateway: %w", &websocket.CloseError{Code: 4004, Text: "Authentication failed."})
	if err := gatewayProblem(wrapped); !strings.Contains(err.Error(), "rejected DISCORD_TOKEN (close 4004") {
		t.Errorf("gatewayProblem(close 4004) = %v; want it to name DISCORD_TOKEN", err)
	}
	other := errors.New("discord: connect to the gateway: EOF")
	if err := gatewayProblem(other); err != other {
		t.Errorf("gatewayProblem(%v) = %v; want it unchanged", other, err)
	}
}

// gate sits in front of the fake Discord: it closes every connection
// until opened, then proxies. Each refusal notifies refusedSig.
type gate struct {
	open       atomic.Bool
	refused    atomic.Int32
	refusedSig testkit.Signal
	proxy      *httputil.ReverseProxy
	token      string // if set, REST requests carry this token instead
}

func newGate(t *testing.T, target string) (*gate, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{proxy: httputil.NewSingleHostReverseProxy(u)}
	g.proxy.ErrorLog = log.New(io.Discard, "", 0) // requests cut short at cleanup
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv.URL
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.open.Load() {
		g.refused.Add(1)
		defer g.refusedSig.Notify()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close() // the client reads EOF: a network failure
		}
		return
	}
	if g.token != "" {
		r.Header.Set("Authorization", "Bot "+g.token)
	}
	g.proxy.ServeHTTP(w, r)
}

func TestStartupRetriesUntilDiscordAnswers(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
	g, front := newGate(t, f.discord.URL)
	f.env["DISCORD_API_URL"] = front
	before := f.commandRequests()
	r := startInProcess(t, f.env)
	// Two refusals: the first attempt's warning is logged before the second.
	if err := g.refusedSig.Wait(t.Context(), func() bool { return g.refused.Load() >= 2 }); err != nil {
		t.Fatal(err)
	}
	if out := r.out.String(); !strings.Contains(out, "cannot reach Discord at start; retrying: check the network and DISCORD_API_URL") {
		t.Errorf("the log does not say what to check while Discord is unreachable:\n%s", out)
	}
	g.open.Store(true)
	f.waitRegistered(t, before)
	select {
	case <-r.exited:
		t.Fatalf("songbot exited with %d; want it running", r.code)
	default:
	}
}

// TestStartupRetriesWhileDiscordRefusesConnections starts the bot while
// nothing listens on DISCORD_API_URL's port, so every attempt is refused
// as when Discord or the network is down, then opens the port: the bot
// keeps retrying, saying what to check, and starts once Discord answers.
func TestStartupRetriesWhileDiscordRefusesConnections(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused from now on, until the port opens again below
	f.env["DISCORD_API_URL"] = "http://" + addr
	before := f.commandRequests()
	r := startInProcess(t, f.env)
	const retrying = "cannot reach Discord at start; retrying: check the network and DISCORD_API_URL"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := r.out.Wait(ctx, func(s string) bool { return strings.Count(s, retrying) >= 2 }); err != nil {
		t.Fatalf("the bot did not log two retries while its connections were refused:\n%s", r.out.String())
	}
	if out := r.out.String(); !strings.Contains(out, "connection refused") {
		t.Errorf("the retries do not say the connection was refused:\n%s", out)
	}

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("reopen %s: %v", addr, err)
	}
	target, err := url.Parse(f.discord.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	f.waitRegistered(t, before)
	select {
	case <-r.exited:
		t.Fatalf("songbot exited with %d; want it running", r.code)
	default:
	}
}

func TestStartupExitsAtOnceOnARejectedToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gate bool // REST sees the right token, the gateway the wrong one
		want string
	}{
		{"REST 401", false, "rejected DISCORD_TOKEN (401)"},
		{"gateway close 4004", true, "the Discord gateway rejected DISCORD_TOKEN (close 4004"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir(), "DISCORD_TOKEN": "wrong-discord-secret"})
			if tt.gate {
				g, front := newGate(t, f.discord.URL)
				g.token = f.discord.Token
				g.open.Store(true)
				f.env["DISCORD_API_URL"] = front
			}
			r := startInProcess(t, f.env)
			if code := r.exitCode(t, 20*time.Second); code != 1 {
				t.Errorf("exit status = %d; want 1", code)
			}
			out := r.out.String()
			if !strings.Contains(out, tt.want) || strings.Contains(out, "retrying") {
				t.Errorf("output:\n%s\nwant %q and no retry", out, tt.want)
			}
			assertNoSecrets(t, []string{"wrong-discord-secret", f.discord.Token}, out)
		})
	}
}
