package whisul

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/songbot-dev/songbot/internal/secret"
)

// DefaultBaseURL is Whisul's production API.
const DefaultBaseURL = "https://whisul.com/api"

// DefaultUserAgent names this client when Options.UserAgent is empty. The
// client has no version of its own to set at link time: a program names
// itself and its version in UserAgent, as songbot does.
const DefaultUserAgent = "github.com/songbot-dev/songbot/whisul (+https://github.com/songbot-dev/songbot)"

// Defaults for Options fields left zero.
const (
	DefaultMaxRetries = 3
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	DefaultTimeout    = 30 * time.Second
)

// maxLoggedOnce bounds how many distinct values (unknown statuses, unsafe
// poll URLs) a Client remembers having logged.
const maxLoggedOnce = 64

// maxJobError caps a failed job's Error, which users see and logs record.
const maxJobError = 1000

// Options configures a Client. Only APIKey is required.
type Options struct {
	// BaseURL defaults to DefaultBaseURL. Its path ("/api") is kept:
	// endpoints are joined below it.
	BaseURL string
	// APIKey is sent as a bearer token and never logged or put in errors.
	APIKey     string
	HTTPClient *http.Client // default: &http.Client{Timeout: DefaultTimeout}
	Logger     *slog.Logger // default: discards
	UserAgent  string       // default: DefaultUserAgent; name your program and its version
	// MaxRetries counts retries after the first attempt: 0 means
	// DefaultMaxRetries, negative means none.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential, fully jittered wait
	// between attempts. A longer Retry-After is honoured, but no wait runs
	// past the context's deadline.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// OnResponse, if set, is called once per HTTP attempt for metrics:
	// endpoint is "generate" or "job", status the HTTP status (0 for a
	// network failure). It must be safe for concurrent use.
	OnResponse func(endpoint string, status int)
}

// Client talks to Whisul. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	key        secret.Value
	http       *http.Client
	log        *slog.Logger
	userAgent  string
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	onResponse func(endpoint string, status int)
	now        func() time.Time
	jitter     func(n time.Duration) time.Duration // uniform in [0, n); tests fix it
	unknown    *logOnce                            // unknown job statuses
	unsafePoll *logOnce                            // poll_url values refused by jobURL
}

// New returns a Client, or an error if opts are unusable.
func New(opts Options) (*Client, error) {
	if opts.APIKey == "" {
		return nil, errors.New("whisul: APIKey is required")
	}
	if strings.ContainsFunc(opts.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// Most likely a trailing newline from a secrets file; never echo it.
		return nil, errors.New("whisul: APIKey contains whitespace or control characters")
	}
	raw := opts.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(raw)
	if err != nil {
		// url.Parse's message quotes the whole URL, password included if
		// there is one, so none of it is repeated here.
		return nil, errors.New("whisul: BaseURL cannot be parsed; want an absolute http(s) URL such as " + DefaultBaseURL)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("whisul: BaseURL %q is not an absolute http(s) URL", base.Redacted())
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("whisul: BaseURL %q must not have a query or fragment", base.Redacted())
	}
	key := opts.APIKey
	c := &Client{
		base:       base,
		key:        secret.New(key),
		http:       opts.HTTPClient,
		log:        opts.Logger,
		userAgent:  opts.UserAgent,
		maxRetries: opts.MaxRetries,
		minBackoff: opts.MinBackoff,
		maxBackoff: opts.MaxBackoff,
		onResponse: opts.OnResponse,
		now:        time.Now,
		jitter:     rand.N[time.Duration],
		unknown:    newLogOnce(),
		unsafePoll: newLogOnce(),
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	// Log lines quote server text (an odd image_url, a status), and a
	// server could echo the key back in it.
	c.log = slog.New(secret.Handler(c.log.Handler(), key))
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.minBackoff <= 0 {
		c.minBackoff = DefaultMinBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = DefaultMaxBackoff
	}
	c.maxBackoff = max(c.maxBackoff, c.minBackoff)
	return c, nil
}

// String describes the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("whisul.Client{BaseURL: %q}", c.base.Redacted())
}

// GoString is String, so %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// LogValue describes the client without its key.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.base.Redacted()),
		slog.String("user_agent", c.userAgent),
		slog.Int("max_retries", c.maxRetries),
	)
}

// Generate submits prompt and returns the queued job. An empty or
// whitespace-only prompt fails with ErrInvalidPrompt without a request.
//
// Generate is retried only when Whisul certainly did not create a job
// (429, or no connection); after a 5xx or timeout it returns the error, and
// the job may or may not exist.
func (c *Client) Generate(ctx context.Context, prompt string) (Submission, error) {
	if strings.TrimSpace(prompt) == "" {
		return Submission{}, &opError{op: opGenerate, kind: ErrInvalidPrompt, msg: "prompt is empty"}
	}
	body, err := json.Marshal(struct {
		Prompt string `json:"prompt"`
	}{prompt})
	if err != nil {
		return Submission{}, fmt.Errorf("whisul: generate: %w", err)
	}
	resp, err := c.do(ctx, opGenerate, http.MethodPost, c.base.JoinPath("generate").String(), body)
	if err != nil {
		return Submission{}, err
	}
	return decodeSubmission(resp)
}

// Job fetches a job. pollURL (Whisul's poll_url, relative to the base URL,
// e.g. "/jobs/<id>") is used when non-empty and a plain relative path;
// otherwise the path is built from jobID. A missing job is ErrNotFound.
func (c *Client) Job(ctx context.Context, jobID, pollURL string) (Job, error) {
	target, err := c.jobURL(jobID, pollURL)
	if err != nil {
		return Job{}, err
	}
	resp, err := c.do(ctx, opJob, http.MethodGet, target, nil)
	if err != nil {
		return Job{}, err
	}
	j, err := decodeJob(resp, c.log)
	if err != nil {
		return Job{}, err
	}
	j.Error = c.scrub(j.Error, maxJobError) // callers show it to users
	if j.Status == StatusRunning && j.RawStatus != string(StatusRunning) && c.unknown.first(j.RawStatus) {
		c.log.Warn("whisul: unknown job status, treating as running", "status", c.scrub(j.RawStatus, maxErrorText), "job_id", jobID)
	}
	return j, nil
}

// jobURL resolves the URL to poll, keeping the base URL's path prefix.
func (c *Client) jobURL(jobID, pollURL string) (string, error) {
	if pollURL != "" {
		if u, ok := relativePath(pollURL); ok {
			t := c.base.JoinPath(u.EscapedPath())
			t.RawQuery = u.RawQuery
			return t.String(), nil
		}
		if c.unsafePoll.first(pollURL) {
			c.log.Warn("whisul: ignoring unsafe poll_url, using the job id", "poll_url", c.scrub(pollURL, maxErrorText), "job_id", jobID)
		}
	}
	if jobID == "" {
		return "", errors.New("whisul: job: no job id")
	}
	seg := url.PathEscape(jobID)
	if seg == "." || seg == ".." {
		// PathEscape leaves dots alone, and JoinPath would resolve them.
		seg = strings.ReplaceAll(seg, ".", "%2E")
	}
	return c.base.JoinPath("jobs", seg).String(), nil
}

// relativePath parses a poll_url and accepts it only as a path below the
// base URL: no scheme, host or user, no "." or ".." segment (escaped or
// not), no backslash.
func relativePath(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return nil, false
	}
	if strings.HasPrefix(s, "//") || strings.Contains(u.Path, `\`) || strings.Trim(u.Path, "/") == "" {
		return nil, false
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, false
		}
	}
	return u, true
}

// attempt makes one HTTP request and decides its outcome with
// checkResponse.
func (c *Client) attempt(ctx context.Context, op, method, target string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("whisul: %s: building request: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key.Reveal())
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.report(op, 0)
		return nil, &opError{op: op, kind: ErrNetwork, err: err}
	}
	defer resp.Body.Close()
	c.report(op, resp.StatusCode)
	return c.checkResponse(op, resp)
}

func (c *Client) report(op string, status int) {
	if c.onResponse != nil {
		c.onResponse(op, status)
	}
}

// scrub readies text that came from the server for an error, a Job field
// or a log line: the API key is redacted, in case the server echoes it, and
// only then is the text clipped to n bytes, so that no part of a key that
// straddles the cut survives.
func (c *Client) scrub(s string, n int) string {
	return clip(secret.Scrub(s, c.key.Reveal()), n)
}

// logOnce remembers which values were logged, so that a job polled every
// few seconds logs an oddity once per Client rather than on every poll.
type logOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newLogOnce() *logOnce { return &logOnce{seen: make(map[string]bool)} }

// first reports whether v has not been seen before (and records it, up to
// maxLoggedOnce distinct values; past that, nothing more is logged).
func (l *logOnce) first(v string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[v] || len(l.seen) >= maxLoggedOnce {
		return false
	}
	l.seen[v] = true
	return true
}
