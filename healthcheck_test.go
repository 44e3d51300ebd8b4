package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, want string }{
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz"},
		{"[::]:8080", "http://[::1]:8080/healthz"},
		{"10.0.0.5:9000", "http://10.0.0.5:9000/healthz"},
		{"localhost:8080", "http://localhost:8080/healthz"},
	}
	for _, tt := range tests {
		if got, err := healthURL(tt.addr); err != nil || got != tt.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(ok.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	// A server that accepts and never answers: the probe must give up in 2s.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() })
	tests := []struct {
		name     string
		env      map[string]string
		wantCode int
		want     string
	}{
		{"healthy", map[string]string{"HTTP_ADDR": strings.TrimPrefix(ok.URL, "http://")}, 0, "answered 200"},
		{"unhealthy", map[string]string{"HTTP_ADDR": strings.TrimPrefix(failing.URL, "http://")}, 1, "answered 503"},
		{"not the bot", map[string]string{"HTTP_ADDR": strings.TrimPrefix(failing.URL, "http://")}, 1, "another program answers on HTTP_ADDR"},
		{"nothing listening", map[string]string{"HTTP_ADDR": closedAddr(t)}, 1, "is the bot running"},
		{"hung", map[string]string{"HTTP_ADDR": hung.Addr().String()}, 1, "within 2s"},
		{"server off", map[string]string{"HTTP_ADDR": ""}, 1, "HTTP_ADDR is empty"},
		{"bad address", map[string]string{"HTTP_ADDR": "8080"}, 1, "not host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			stdout, stderr, code := runCLI(t, tt.env, "healthcheck")
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("songbot healthcheck = %d\nstdout:\n%s\nstderr:\n%s\nwant %d with %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("songbot healthcheck took %v; want at most about 2s", took)
			}
		})
	}
}
