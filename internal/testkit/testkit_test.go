package testkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/internal/testkit"
)

func TestBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b testkit.Buffer
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { fmt.Fprint(&b, "x") })
	}
	wg.Wait()
	if got := b.String(); got != "xxxxxxxxxx" {
		t.Errorf("String() = %q; want ten x", got)
	}
}

func TestBufferWaitWakesOnWrite(t *testing.T) {
	t.Parallel()
	var b testkit.Buffer
	go func() {
		for _, line := range []string{"one\n", "two\n", "three\n"} {
			fmt.Fprint(&b, line)
		}
	}()
	err := b.Wait(t.Context(), func(s string) bool { return strings.Contains(s, "three") })
	if err != nil {
		t.Fatalf("Wait = %v; want nil once the line is written", err)
	}
	if got := b.String(); got != "one\ntwo\nthree\n" {
		t.Errorf("String() = %q after Wait; want all three lines", got)
	}
}

func TestSignalWaitWakesOnNotify(t *testing.T) {
	t.Parallel()
	var s testkit.Signal
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
			s.Notify()
		}
	}()
	if err := s.Wait(t.Context(), func() bool { return n.Load() == 3 }); err != nil {
		t.Fatalf("Wait = %v; want nil once the condition holds", err)
	}
}

func TestSignalWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	var s testkit.Signal
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx, func() bool { return false }); err == nil {
		t.Fatal("Wait = nil for a condition that never holds; want the context's error")
	}
}

func TestHTTPGet(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, "short and stout")
	}))
	defer srv.Close()
	if code, body := testkit.HTTPGet(t, srv.URL); code != http.StatusTeapot || body != "short and stout" {
		t.Errorf("HTTPGet = %d, %q; want 418, %q", code, body, "short and stout")
	}
}

func TestHTTPDoSendsMethodAndHeader(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/x-echo")
		fmt.Fprint(w, r.Method+" "+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	resp, body := testkit.HTTPDo(t, http.MethodDelete, srv.URL, http.Header{"Authorization": {"Bot x"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/x-echo" || body != "DELETE Bot x" {
		t.Errorf("HTTPDo = %d %q %q; want 200 text/x-echo %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, "DELETE Bot x")
	}
}
