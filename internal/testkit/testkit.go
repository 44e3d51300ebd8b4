// Package testkit holds the small helpers that tests across songbot share:
// a buffer safe for concurrent writers, a change signal to wait on instead
// of sleeping, and HTTP requests that fail the test on transport errors.
package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer safe for concurrent use, for logs written by
// goroutines a test reads from. Wait lets a test wait for a line.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written Signal
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.buf.Write(p)
	b.mu.Unlock()
	b.written.Notify()
	return n, err
}

// Wait returns nil once cond holds for what was written, or ctx's error.
func (b *Buffer) Wait(ctx context.Context, cond func(written string) bool) error {
	return b.written.Wait(ctx, func() bool { return cond(b.String()) })
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Signal wakes waiters whenever something they may be waiting for changed.
// The zero value is ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *Signal) current() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes every Wait so it checks its condition again.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
	}
	s.ch = make(chan struct{})
}

// Wait returns nil as soon as cond() is true, checking it at the start and
// after every Notify, or the context's cause once it ends.
func (s *Signal) Wait(ctx context.Context, cond func() bool) error {
	for {
		ch := s.current()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait: %w", context.Cause(ctx))
		case <-ch:
		}
	}
}

// HTTPGet fetches url and returns its status and body, failing the test
// when the request cannot be made.
func HTTPGet(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, body := HTTPDo(tb, http.MethodGet, url, nil)
	return resp.StatusCode, body
}

// HTTPDo sends a request without a body, with header, and returns the
// response, its body read whole and closed, and the body; it fails the
// test when the request cannot be made. The request ends with the test.
func HTTPDo(tb testing.TB, method, url string, header http.Header) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	if c, ok := tb.(interface{ Context() context.Context }); ok {
		req = req.WithContext(c.Context())
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, string(body)
}
