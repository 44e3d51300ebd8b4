package whisul

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/whisul/whisultest"
)

const key = "sk-test-0123456789abcdef"

// newClient is New with fast backoff, failing the test on error.
func newClient(tb testing.TB, opts Options) *Client {
	tb.Helper()
	if opts.MinBackoff == 0 {
		opts.MinBackoff = time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 5 * time.Millisecond
	}
	c, err := New(opts)
	if err != nil {
		tb.Fatalf("New(%+v) = %v", opts, err)
	}
	return c
}

// fakeClient starts a fake Whisul and a client for it.
func fakeClient(t *testing.T) (*Client, *whisultest.Server) {
	t.Helper()
	s := whisultest.NewServer(t, key)
	return newClient(t, Options{BaseURL: s.URL, APIKey: key}), s
}

// rawServer serves every request with h, mounted anywhere; it returns the
// base URL (with /api) and a counter of requests.
func rawServer(t *testing.T, h http.HandlerFunc) (string, *counter) {
	t.Helper()
	n := &counter{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.add(r.URL.EscapedPath())
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api", n
}

type counter struct {
	mu    sync.Mutex
	paths []string
}

func (c *counter) add(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths = append(c.paths, p)
}

func (c *counter) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

func TestNew(t *testing.T) {
	t.Parallel()
	bad := []Options{
		{},
		{APIKey: key + "\n"},
		{APIKey: "a b"},
		{APIKey: key, BaseURL: "whisul.com/api"},
		{APIKey: key, BaseURL: "ftp://whisul.com/api"},
		{APIKey: key, BaseURL: "https:///api"},
		{APIKey: key, BaseURL: "https://whisul.com/api?x=1"},
		{APIKey: key, BaseURL: "://"},
		{APIKey: key, BaseURL: "https://user:hunter2@whisul.test:port/api"},
		{APIKey: key, BaseURL: "https://user:hunter2@whisul.test/api%zz"},
		{APIKey: key, BaseURL: "https://user:hunter2@whisul.test/api?x=1"},
		{APIKey: key, BaseURL: "ftp://user:hunter2@whisul.test/api"},
	}
	for _, o := range bad {
		if c, err := New(o); err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) = %v, %v; want an error without the key or the URL's password", o.BaseURL, c, err)
		}
	}

	c, err := New(Options{APIKey: key})
	if err != nil {
		t.Fatalf("New(key only) = %v", err)
	}
	if c.base.String() != DefaultBaseURL || c.maxRetries != 3 || c.minBackoff != 500*time.Millisecond ||
		c.maxBackoff != 10*time.Second || c.http.Timeout != 30*time.Second || c.log == nil {
		t.Errorf("New(key only) defaults = %+v", *c)
	}
	if c.userAgent != DefaultUserAgent {
		t.Errorf("default User-Agent = %q; want %q", c.userAgent, DefaultUserAgent)
	}
	if c, _ := New(Options{APIKey: key, MaxRetries: -1}); c.maxRetries != 0 {
		t.Errorf("New(MaxRetries -1).maxRetries = %d; want 0", c.maxRetries)
	}
	if c, _ := New(Options{APIKey: key, MinBackoff: time.Minute, MaxBackoff: time.Second}); c.maxBackoff != time.Minute {
		t.Errorf("New(MinBackoff > MaxBackoff).maxBackoff = %v; want raised to 1m", c.maxBackoff)
	}
}

func TestClientDoesNotShowKey(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{APIKey: key, BaseURL: "https://user:pw@whisul.test/api"})
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "client", c, "key", c.key)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "client", c, "key", c.key)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", c, c, c, c, *c, *c, *c) + logged.String()
	out += fmt.Sprint(json.Marshal(c.key))
	if strings.Contains(out, key) || strings.Contains(out, "pw") {
		t.Errorf("printing the client shows a secret: %s", out)
	}
	if !strings.Contains(c.String(), "whisul.test/api") {
		t.Errorf("String() = %q; want the base URL", c.String())
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	c, s := fakeClient(t)
	sub, err := c.Generate(t.Context(), "a trap song")
	if err != nil {
		t.Fatalf("Generate(%q) = %v", "a trap song", err)
	}
	jobs := s.Jobs()
	if len(jobs) != 1 || sub.JobID != jobs[0].ID || sub.PollURL != "/jobs/"+sub.JobID || sub.Message == "" {
		t.Fatalf("Generate(%q) = %+v; want the fake's job %v", "a trap song", sub, jobs)
	}
	r := s.Requests()[0]
	want := map[string]string{
		"Authorization": "Bearer " + key,
		"Accept":        "application/json",
		"Content-Type":  "application/json",
	}
	for h, v := range want {
		if got := r.Header.Get(h); got != v {
			t.Errorf("Generate request header %s = %q; want %q", h, got, v)
		}
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "github.com/songbot-dev/songbot/") {
		t.Errorf("Generate request User-Agent = %q; want songbot/...", ua)
	}
	if r.Path != "/api/generate" || string(r.Body) != `{"prompt":"a trap song"}` {
		t.Errorf("Generate request = %s %s; want /api/generate with the prompt", r.Path, r.Body)
	}
}

func TestCustomUserAgent(t *testing.T) {
	t.Parallel()
	s := whisultest.NewServer(t, key)
	c := newClient(t, Options{BaseURL: s.URL, APIKey: key, UserAgent: "github.com/songbot-dev/songbot/1.2.3 (test)"})
	c.Job(t.Context(), "nope", "")
	if got := s.Requests()[0].Header.Get("User-Agent"); got != "github.com/songbot-dev/songbot/1.2.3 (test)" {
		t.Errorf("User-Agent = %q; want the one set", got)
	}
}

func TestGenerateBlankPrompt(t *testing.T) {
	t.Parallel()
	c, s := fakeClient(t)
	for _, p := range []string{"", " ", "\n\t "} {
		if _, err := c.Generate(t.Context(), p); !errors.Is(err, ErrInvalidPrompt) {
			t.Errorf("Generate(%q) = %v; want ErrInvalidPrompt", p, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("blank prompts made %d requests; want 0", n)
	}
}

func TestGenerateStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter string
		fails      int
		wantErr    error // nil: succeeds in the end
		wantPOSTs  int
	}{
		{400, "", 1, ErrInvalidPrompt, 1},
		{401, "", 1, ErrUnauthorized, 1},
		{429, "", 1, nil, 2},
		{429, "0", 10, ErrRateLimited, 4}, // 1 + 3 retries
		{500, "", 1, ErrServer, 1},        // the job may exist: never repeated
		{503, "1", 1, ErrServer, 1},
		{502, "", 1, ErrServer, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			c, s := fakeClient(t)
			s.FailGenerate(tt.fails, tt.status, tt.retryAfter)
			_, err := c.Generate(t.Context(), "song")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Generate(%q) after %d× %d = %v; want %v", "song", tt.fails, tt.status, err, tt.wantErr)
			}
			if n := s.Count("POST", "/api/generate"); n != tt.wantPOSTs {
				t.Errorf("POSTs after %d× %d = %d; want %d", tt.fails, tt.status, n, tt.wantPOSTs)
			}
			var ae *APIError
			if err != nil && (!errors.As(err, &ae) || ae.StatusCode != tt.status || ae.Op != "generate" || ae.Code == "") {
				t.Errorf("Generate(%q) error = %#v; want an APIError with status %d and Whisul's code", "song", ae, tt.status)
			}
		})
	}
}

func TestGenerateNoRetryAfterTimeout(t *testing.T) {
	t.Parallel()
	base, n := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices the client leaving
		<-r.Context().Done()        // hang until the client gives up
	})
	c := newClient(t, Options{BaseURL: base, APIKey: key, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	_, err := c.Generate(t.Context(), "song")
	if !errors.Is(err, ErrNetwork) {
		t.Errorf("Generate(%q) timing out = %v; want ErrNetwork", "song", err)
	}
	if got := len(n.get()); got != 1 {
		t.Errorf("POSTs after a timeout = %d; want 1", got)
	}
}

func TestRetryAfterDialError(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: connections are refused

	for _, op := range []string{"generate", "job"} {
		var mu sync.Mutex
		var statuses []int
		c := newClient(t, Options{BaseURL: "http://" + addr + "/api", APIKey: key, MaxRetries: 2,
			OnResponse: func(endpoint string, status int) {
				mu.Lock()
				defer mu.Unlock()
				if endpoint != op {
					t.Errorf("OnResponse endpoint = %q; want %q", endpoint, op)
				}
				statuses = append(statuses, status)
			}})
		if op == "generate" {
			_, err = c.Generate(t.Context(), "song")
		} else {
			_, err = c.Job(t.Context(), "id", "")
		}
		var oe *net.OpError
		if !errors.Is(err, ErrNetwork) || !errors.As(err, &oe) || strings.Contains(err.Error(), key) {
			t.Errorf("%s against a closed port = %v; want ErrNetwork wrapping a *net.OpError", op, err)
		}
		if fmt.Sprint(statuses) != "[0 0 0]" {
			t.Errorf("%s against a closed port: OnResponse statuses = %v; want [0 0 0]", op, statuses)
		}
	}
}

func TestJob(t *testing.T) {
	t.Parallel()
	c, s := fakeClient(t)
	s.SetDefault(whisultest.Script{Polls: 1})
	sub, err := c.Generate(t.Context(), "lofi beats")
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job(t.Context(), sub.JobID, sub.PollURL)
	if err != nil || j.Status != StatusRunning || j.Result != nil || j.StartedAt.IsZero() || !j.FinishedAt.IsZero() {
		t.Fatalf("Job(%q) = %+v, %v; want running", sub.JobID, j, err)
	}
	j, err = c.Job(t.Context(), sub.JobID, sub.PollURL)
	if err != nil || j.Status != StatusCompleted || j.Result == nil || j.Prompt != "lofi beats" || j.FinishedAt.IsZero() {
		t.Fatalf("Job(%q) = %+v, %v; want completed", sub.JobID, j, err)
	}
	r := j.Result
	if r.Title == "" || r.BPM != 120 || r.Duration != 167*time.Second || len(r.Tags) != 3 {
		t.Errorf("Job(%q).Result = %+v; want the fake's result", sub.JobID, r)
	}
	for _, u := range []string{r.SongURL, r.ImageURL} {
		resp, err := http.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s = %v, %v; want 200", u, resp, err)
			continue
		}
		resp.Body.Close()
	}
	for _, r := range s.Requests()[1:3] {
		if want := "/api/jobs/" + sub.JobID; r.Path != want {
			t.Errorf("poll path = %q; want %q (the /api prefix kept)", r.Path, want)
		}
	}
}

func TestJobStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   whisultest.Script
		key      string
		wantErr  error // nil: completes
		wantGETs int
	}{
		{"ok", whisultest.Script{}, key, nil, 1},
		{"500 then ok", whisultest.Script{ServerErrors: 2}, key, nil, 3},
		{"429 then ok", whisultest.Script{RateLimited: 1, RetryAfter: "0"}, key, nil, 2},
		{"500 until out of retries", whisultest.Script{ServerErrors: 9}, key, ErrServer, 4},
		{"404", whisultest.Script{NotFound: true}, key, ErrNotFound, 1},
		{"401", whisultest.Script{}, "wrong-key", ErrUnauthorized, 1},
		{"failed", whisultest.Script{Fail: true, ErrorText: "out of ideas"}, key, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := whisultest.NewServer(t, key)
			s.SetDefault(tt.script)
			good := newClient(t, Options{BaseURL: s.URL, APIKey: key})
			sub, err := good.Generate(t.Context(), "song")
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, Options{BaseURL: s.URL, APIKey: tt.key})
			j, err := c.Job(t.Context(), sub.JobID, sub.PollURL)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Job(%q) = %+v, %v; want %v", sub.JobID, j, err, tt.wantErr)
			}
			if n := s.Count("GET", "/api/jobs/"); n != tt.wantGETs {
				t.Errorf("Job(%q) made %d GETs; want %d", sub.JobID, n, tt.wantGETs)
			}
			if tt.script.Fail && (j.Status != StatusFailed || j.Error != tt.script.ErrorText) {
				t.Errorf("Job(%q) = %+v; want failed with %q", sub.JobID, j, tt.script.ErrorText)
			}
		})
	}
}

func TestJobUnknownID(t *testing.T) {
	t.Parallel()
	c, _ := fakeClient(t)
	var ae *APIError
	_, err := c.Job(t.Context(), "no-such-job", "")
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ae) || ae.Message != "Job not found or expired" || ae.Op != "job" {
		t.Errorf("Job(%q) = %v; want ErrNotFound with Whisul's message", "no-such-job", err)
	}
	if _, err := c.Job(t.Context(), "", ""); err == nil {
		t.Errorf("Job(%q, %q) = nil error; want one", "", "")
	}
}

func TestJobURL(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{APIKey: key, BaseURL: "https://whisul.test/api/"})
	tests := []struct{ id, pollURL, want string }{
		{"abc", "", "/api/jobs/abc"},
		{"a/b c?d#e", "", "/api/jobs/a%2Fb%20c%3Fd%23e"},
		{"..", "", "/api/jobs/%2E%2E"},
		{".", "", "/api/jobs/%2E"},
		{"100%", "", "/api/jobs/100%25"},
		{"abc", "/jobs/abc", "/api/jobs/abc"},
		{"abc", "jobs/abc", "/api/jobs/abc"},
		{"abc", "/jobs/abc?v=2", "/api/jobs/abc?v=2"},
		{"abc", "/jobs/x%2Fy", "/api/jobs/x%2Fy"},
		{"abc", "https://evil.test/jobs/abc", "/api/jobs/abc"},
		{"abc", "//evil.test/jobs/abc", "/api/jobs/abc"},
		{"abc", "/../jobs/abc", "/api/jobs/abc"},
		{"abc", "/jobs/../../x", "/api/jobs/abc"},
		{"abc", "/jobs/%2e%2e/x", "/api/jobs/abc"},
		{"abc", "/jobs/./abc", "/api/jobs/abc"},
		{"abc", `/jobs\abc`, "/api/jobs/abc"},
		{"abc", "mailto:x@y", "/api/jobs/abc"},
		{"abc", "/", "/api/jobs/abc"},
	}
	for _, tt := range tests {
		got, err := c.jobURL(tt.id, tt.pollURL)
		if want := "https://whisul.test" + tt.want; err != nil || got != want {
			t.Errorf("jobURL(%q, %q) = %q, %v; want %q", tt.id, tt.pollURL, got, err, want)
		}
	}
}

func TestJobIDEscapedOnTheWire(t *testing.T) {
	t.Parallel()
	c, s := fakeClient(t)
	c.Job(t.Context(), "a/b c", "")
	if got, want := s.Requests()[0].Path, "/api/jobs/a%2Fb%20c"; got != want {
		t.Errorf("Job(%q) requested %q; want %q", "a/b c", got, want)
	}
}

func TestUnknownStatusLoggedOnce(t *testing.T) {
	t.Parallel()
	status := "queued"
	var mu sync.Mutex
	base, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, `{"status":%q}`, status)
	})
	log, buf := newTestLogger()
	c := newClient(t, Options{BaseURL: base, APIKey: key, Logger: log})
	for i := range 4 {
		if i == 2 {
			mu.Lock()
			status = "pending"
			mu.Unlock()
		}
		j, err := c.Job(t.Context(), "id", "")
		if err != nil || j.Status != StatusRunning {
			t.Errorf("Job(%q) with an unknown status = %+v, %v; want running", "id", j, err)
		}
	}
	if n := strings.Count(buf.String(), "unknown job status"); n != 2 {
		t.Errorf("logged %d unknown-status warnings; want 2 (one per value):\n%s", n, buf)
	}
}

func TestUnsafePollURLLoggedOnce(t *testing.T) {
	t.Parallel()
	log, buf := newTestLogger()
	c := newClient(t, Options{BaseURL: "https://whisul.test/api", APIKey: key, Logger: log})
	for i := range 4 {
		poll := "https://evil.test/jobs/abc"
		if i >= 2 {
			poll = "/../jobs/abc"
		}
		if got, err := c.jobURL("abc", poll); err != nil || got != "https://whisul.test/api/jobs/abc" {
			t.Errorf("jobURL(%q, %q) = %q, %v; want the job id's URL", "abc", poll, got, err)
		}
	}
	if n := strings.Count(buf.String(), "ignoring unsafe poll_url"); n != 2 {
		t.Errorf("logged %d unsafe poll_url warnings; want 2 (one per value):\n%s", n, buf)
	}
}

func TestOnResponse(t *testing.T) {
	t.Parallel()
	s := whisultest.NewServer(t, key)
	s.SetDefault(whisultest.Script{ServerErrors: 2})
	var mu sync.Mutex
	var got []string
	c := newClient(t, Options{BaseURL: s.URL, APIKey: key, OnResponse: func(endpoint string, status int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprint(endpoint, " ", status))
	}})
	sub, err := c.Generate(t.Context(), "song")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Job(t.Context(), sub.JobID, sub.PollURL); err != nil {
		t.Fatal(err)
	}
	if want := "[generate 202 job 500 job 500 job 200]"; fmt.Sprint(got) != want {
		t.Errorf("OnResponse calls = %v; want %v", got, want)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	t.Parallel()
	s := whisultest.NewServer(t, key)
	s.SetDefault(whisultest.Script{ServerErrors: 100})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Backoff long enough that only the cancellation can end the wait.
	c := newClient(t, Options{BaseURL: s.URL, APIKey: key, MinBackoff: time.Hour, MaxBackoff: time.Hour,
		OnResponse: func(endpoint string, status int) {
			if status == 500 {
				cancel()
			}
		}})
	sub, err := c.Generate(ctx, "song")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Job(ctx, sub.JobID, sub.PollURL)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrServer) {
		t.Errorf("Job(%q) cancelled after a 500 = %v; want context.Canceled", sub.JobID, err)
	}
	if n := s.Count("GET", "/api/jobs/"); n != 1 {
		t.Errorf("GETs = %d; want 1", n)
	}
}

func TestTimeoutIsNetworkAndDeadline(t *testing.T) {
	t.Parallel()
	s := whisultest.NewServer(t, key)
	s.SetDefault(whisultest.Script{Delay: time.Hour})
	c := newClient(t, Options{BaseURL: s.URL, APIKey: key})
	sub, err := c.Generate(t.Context(), "song")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Job(ctx, sub.JobID, "")
	if !errors.Is(err, ErrNetwork) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Job(%q) past its deadline = %v; want ErrNetwork and context.DeadlineExceeded", sub.JobID, err)
	}
}

func TestFailedJobErrorNeverEchoesTheKey(t *testing.T) {
	t.Parallel()
	c, s := fakeClient(t)
	s.SetDefault(whisultest.Script{Fail: true, ErrorText: "quota of " + key + " exhausted"})
	sub, err := c.Generate(t.Context(), "song")
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job(t.Context(), sub.JobID, sub.PollURL)
	if err != nil || j.Error != "quota of [redacted] exhausted" {
		t.Errorf("Job(%q) = error text %q, %v; want the key redacted", sub.JobID, j.Error, err)
	}
}

// TestFailedJobErrorRedactedThenClipped puts the key across the clip of a
// failed job's error, for string and non-string errors.
func TestFailedJobErrorRedactedThenClipped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, errJSON string
	}{
		{"string at the cut", `"` + strings.Repeat("a", maxJobError-10) + key + `"`},
		{"string of 1 MB", `"` + strings.Repeat("a", 1<<20-100) + `"`},
		{"object at the old cut", `{"detail":"` + strings.Repeat("a", maxErrorText-22) + key + `"}`},
		{"object at the cut", `{"detail":"` + strings.Repeat("a", maxJobError-20) + key + `"}`},
	}
	for _, tt := range tests {
		base, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"status":"failed","error":%s}`, tt.errJSON)
		})
		c := newClient(t, Options{BaseURL: base, APIKey: key})
		j, err := c.Job(t.Context(), "id", "")
		if err != nil || j.Status != StatusFailed {
			t.Errorf("Job(%s) = %+v, %v; want failed", tt.name, j.Status, err)
			continue
		}
		if strings.Contains(j.Error, key[:10]) {
			t.Errorf("Job(%s).Error = %q; it shows part of the key", tt.name, j.Error)
		}
		if n := len(j.Error); n > maxJobError+len("...") {
			t.Errorf("Job(%s).Error is %d bytes long; want at most %d", tt.name, n, maxJobError+len("..."))
		}
	}
}
