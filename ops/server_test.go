package ops_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/ops"
)

func TestEndpointsBeforeAndAfterReady(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	readyFunc := func(context.Context) error {
		if !ready.Load() {
			return errors.New("gateway not connected")
		}
		return nil
	}
	reg := prometheus.NewRegistry()
	m := ops.NewMetrics(reg)
	srv := httptest.NewServer(ops.NewHandler(readyFunc, reg))
	t.Cleanup(srv.Close)

	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 503, "not ready: gateway not connected"},
		{"/metrics", 200, `songbot_song_interactions_total{outcome="accepted"} 0`},
		{"/", 200, "/readyz"},
		{"/nope", 404, ""},
	}
	for _, tt := range tests {
		if status, body := testkit.HTTPGet(t, srv.URL+tt.path); status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
			t.Errorf("GET %s before ready = %d %q; want %d with %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
		}
	}

	ready.Store(true)
	m.Interaction("accepted")
	for _, tt := range []struct {
		path     string
		wantBody string
	}{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
		{"/metrics", `songbot_song_interactions_total{outcome="accepted"} 1`},
	} {
		if status, body := testkit.HTTPGet(t, srv.URL+tt.path); status != 200 || !strings.Contains(body, tt.wantBody) {
			t.Errorf("GET %s when ready = %d %q; want 200 with %q", tt.path, status, body, tt.wantBody)
		}
	}

	resp, err := http.Post(srv.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d; want 405", resp.StatusCode)
	}
}

func TestReadinessCheckIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hung := func(ctx context.Context) error {
			<-ctx.Done()
			return errors.New("store did not answer")
		}
		h := ops.NewHandler(hung, prometheus.NewRegistry())
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), "store did not answer") {
			t.Errorf("GET /readyz with a hung check = %d %q; want 503 with the reason", rec.Code, rec.Body)
		}
		if took := time.Since(start); took != 2*time.Second {
			t.Errorf("GET /readyz took %v; want the 2s bound", took)
		}
	})
}

func TestServeAndShutDown(t *testing.T) {
	t.Parallel()
	s, err := ops.Listen("127.0.0.1:0", ops.NewHandler(func(context.Context) error { return nil }, prometheus.NewRegistry()), nil)
	if err != nil {
		t.Fatalf("Listen() = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()

	// Listen bound the port already: a request cannot arrive too early.
	if status, _ := testkit.HTTPGet(t, "http://"+s.Addr()+"/readyz"); status != 200 {
		t.Errorf("GET /readyz = %d; want 200", status)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve() after cancel = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := net.Dial("tcp", s.Addr()); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

func TestListenOnABusyAddressFails(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, err = ops.Listen(ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Listen(%s) on a busy address = %v; want an error naming the address", ln.Addr(), err)
	}
}
