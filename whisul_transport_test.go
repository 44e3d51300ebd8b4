package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/songbot-dev/songbot/internal/secret"
)

// runningWhisul is a Whisul whose every job is running, counting the TCP
// connections clients open to it.
func runningWhisul(t *testing.T) (url string, opened *atomic.Int64) {
	t.Helper()
	opened = &atomic.Int64{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status": "running", "prompt": "a song", "result": null, "error": null, "started_at": "2026-02-17 15:39:34"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/api", opened
}

// TestWhisulTransportReusesConnections polls from as many goroutines as
// POLL_CONCURRENCY allows, many times each, through the client main builds
// for the bot: the connections opened stay within the concurrency.
func TestWhisulTransportReusesConnections(t *testing.T) {
	t.Parallel()
	const concurrency, rounds = 64, 30
	url, opened := runningWhisul(t)
	cfg := config{WhisulAPIURL: url, WhisulAPIKey: secret.New("key"), PollConcurrency: concurrency}
	wc, err := newBotWhisul(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatalf("newBotWhisul() = %v", err)
	}
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			for range rounds {
				if _, err := wc.Job(t.Context(), fmt.Sprint("job-", i), ""); err != nil {
					t.Errorf("Job() = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d polls from %d goroutines opened %d connections", concurrency*rounds, concurrency, opened.Load())
	// Go's transport dials while it waits for an idle connection and keeps
	// whichever comes first, so spares are opened under load (64 to 90 seen
	// on a busy 2-core machine); churn (Go's default of 2 idle connections
	// per host) opens one per poll or so, over 1,200 here.
	if n, most := opened.Load(), int64(2*concurrency); n > most {
		t.Errorf("%d polls from %d goroutines opened %d TCP connections; want at most %d (no churn)", concurrency*rounds, concurrency, n, most)
	}
}
