package whisul

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestShouldRetry(t *testing.T) {
	t.Parallel()
	dial := &opError{op: "x", kind: ErrNetwork, err: &url.Error{Op: "Post", URL: "http://h/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}}
	read := &opError{op: "x", kind: ErrNetwork, err: &url.Error{Op: "Post", URL: "http://h/api", Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}}}
	timeout := &opError{op: "x", kind: ErrNetwork, err: &url.Error{Op: "Post", URL: "http://h/api", Err: context.DeadlineExceeded}}
	bodyRead := &opError{op: "x", kind: ErrNetwork, msg: "reading response body", err: io.ErrUnexpectedEOF}
	tests := []struct {
		name        string
		err         error
		generate    bool // retry a POST /generate?
		job         bool // retry a GET /jobs?
		reasonMatch string
	}{
		{"429", &APIError{StatusCode: 429}, true, true, "rate limited"},
		{"500", &APIError{StatusCode: 500}, false, true, "server error (500)"},
		{"503", &APIError{StatusCode: 503}, false, true, "server error (503)"},
		{"400", &APIError{StatusCode: 400}, false, false, "status 400"},
		{"401", &APIError{StatusCode: 401}, false, false, "status 401"},
		{"404", &APIError{StatusCode: 404}, false, false, "status 404"},
		{"dial", dial, true, true, "connection refused"},
		{"read reset", read, false, true, "network error"},
		{"timeout", timeout, false, true, "network error"},
		{"body read", bodyRead, false, true, "network error"},
		{"malformed", malformed("x", "bad"), false, false, "not retryable"},
		{"wrapped 429", fmt.Errorf("w: %w", &APIError{StatusCode: 429}), true, true, "rate limited"},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			op   string
			want bool
		}{{opGenerate, tt.generate}, {opJob, tt.job}} {
			got, reason := shouldRetry(c.op, tt.err)
			if got != c.want || reason == "" {
				t.Errorf("shouldRetry(%q, %s) = %v, %q; want %v", c.op, tt.name, got, reason, c.want)
			}
			if c.want && !strings.Contains(reason, tt.reasonMatch) {
				t.Errorf("shouldRetry(%q, %s) reason = %q; want it to mention %q", c.op, tt.name, reason, tt.reasonMatch)
			}
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{APIKey: "k", MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for attempt, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceiling *= time.Millisecond
		var top time.Duration
		for range 500 {
			d := c.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v; want within [0, %v]", attempt, d, ceiling)
			}
			top = max(top, d)
		}
		if top < ceiling/2 { // full jitter spreads over the whole range
			t.Errorf("backoff(%d): max of 500 draws = %v; want near %v", attempt, top, ceiling)
		}
	}
	if d := c.backoff(10000); d > time.Second {
		t.Errorf("backoff(10000) = %v; want capped at 1s", d)
	}
}

// stubTransport answers requests in memory, so retries can run inside a
// synctest bubble; each answer is a status and Retry-After value.
type stubTransport struct {
	mu      sync.Mutex
	answers []stubAnswer
	times   []time.Time // when each request arrived
}

type stubAnswer struct {
	status     int
	retryAfter string
}

func (s *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	a := s.answers[min(len(s.times), len(s.answers))-1]
	h := http.Header{"Content-Type": {"application/json"}}
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	body := `{"error":"Too many requests"}`
	if a.status == 200 {
		body = `{"status":"running"}`
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// gaps returns the waits between consecutive requests.
func (s *stubTransport) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.times); i++ {
		out = append(out, s.times[i].Sub(s.times[i-1]))
	}
	return out
}

func stubClient(t *testing.T, answers ...stubAnswer) (*Client, *stubTransport) {
	st := &stubTransport{answers: answers}
	c := newClient(t, Options{
		BaseURL:    "http://whisul.test/api",
		APIKey:     "k",
		HTTPClient: &http.Client{Transport: st},
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: time.Second,
	})
	return c, st
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		// The bubble's clock starts at 2000-01-01 00:00:00 UTC.
		{"HTTP-date", "Sat, 01 Jan 2000 00:00:05 GMT", 5 * time.Second},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			c, st := stubClient(t, stubAnswer{429, tt.retryAfter}, stubAnswer{200, ""})
			if _, err := c.Job(t.Context(), "id", ""); err != nil {
				t.Fatalf("Job(%q) after 429 = %v; want success", "id", err)
			}
			if gaps := st.gaps(); len(gaps) != 1 || gaps[0] != tt.want {
				t.Errorf("Retry-After %s: waits = %v; want [%v]", tt.name, gaps, tt.want)
			}
		})
	}
}

// TestRetryWaitIsLongerOfBackoffAndRetryAfter fixes the jitter at either end
// of its range, so the wait is exact: a backoff longer than Retry-After
// wins, a shorter one gives way to it.
func TestRetryWaitIsLongerOfBackoffAndRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		jitter func(n time.Duration) time.Duration
		want   time.Duration
	}{
		{"backoff longer", func(n time.Duration) time.Duration { return n - 1 }, 3 * time.Second},
		{"backoff shorter", func(time.Duration) time.Duration { return 0 }, time.Second},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			c, st := stubClient(t, stubAnswer{429, "1"}, stubAnswer{200, ""})
			c.minBackoff, c.maxBackoff, c.jitter = 3*time.Second, 3*time.Second, tt.jitter
			if _, err := c.Job(t.Context(), "id", ""); err != nil {
				t.Fatalf("Job(%q) = %v; want success", "id", err)
			}
			if gaps := st.gaps(); len(gaps) != 1 || gaps[0] != tt.want {
				t.Errorf("%s: waits with Retry-After 1s and backoff up to 3s = %v; want [%v]", tt.name, gaps, tt.want)
			}
		})
	}
}

func TestRetryStopsBeforeDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, st := stubClient(t, stubAnswer{429, "30"}, stubAnswer{200, ""})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Job(ctx, "id", "")
		if !errors.Is(err, ErrRateLimited) || ctx.Err() != nil {
			t.Errorf("Job(%q) with Retry-After past the deadline = %v (ctx %v); want ErrRateLimited at once", "id", err, ctx.Err())
		}
		if el := time.Since(start); el != 0 || len(st.times) != 1 {
			t.Errorf("Job(%q) took %v and %d requests; want 0s and 1", "id", el, len(st.times))
		}
	})
}

func TestCancelDuringRetryWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, st := stubClient(t, stubAnswer{503, "10"}, stubAnswer{200, ""})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(3*time.Second, cancel)
		start := time.Now()
		_, err := c.Job(ctx, "id", "")
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrServer) {
			t.Errorf("Job(%q) cancelled mid-wait = %v; want context.Canceled (not ErrServer)", "id", err)
		}
		if !strings.Contains(fmt.Sprint(err), "503") {
			t.Errorf("Job(%q) = %v; want the last error's text kept", "id", err)
		}
		if el := time.Since(start); el != 3*time.Second || len(st.times) != 1 {
			t.Errorf("Job(%q) returned after %v and %d requests; want 3s and 1", "id", el, len(st.times))
		}
	})
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, st := stubClient(t, stubAnswer{500, ""})
		c.maxRetries = 2
		_, err := c.Job(t.Context(), "id", "")
		if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Errorf("Job(%q) always 500 = %v; want ErrServer after 3 attempts", "id", err)
		}
		if len(st.times) != 3 {
			t.Errorf("requests = %d; want 3", len(st.times))
		}
	})
}
