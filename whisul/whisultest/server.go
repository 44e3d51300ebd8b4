// Package whisultest provides a fake Whisul API server for tests, in the
// manner of net/http/httptest.
//
// The API is mounted under /api, like the real one, so a client that drops
// the base URL's path fails against it. Jobs follow Scripts: how many polls
// they stay running, whether they fail, which errors the server answers
// first. Generated results point at the server's own /cdn/ files (a real
// JPEG cover and a real, silent MP3), which need no key.
package whisultest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/songbot-dev/songbot/internal/testkit"
)

// Script decides how a job behaves when polled.
type Script struct {
	Polls        int           // polls answered "running" before the job ends (0: ends at the first poll)
	After        time.Duration // if > 0, the job ends at the first poll this long after submission (Polls ignored)
	Fail         bool          // end "failed" instead of "completed"
	ErrorText    string        // a failed job's error text; empty sends JSON null
	ServerErrors int           // the first N polls answer 500 (not counted toward Polls)
	RateLimited  int           // then the next N polls answer 429 with Retry-After (not counted either)
	RetryAfter   string        // Retry-After value for those 429s; default "1"
	NotFound     bool          // every poll answers 404 (the job counts as ended at the first)
	Delay        time.Duration // each poll's answer is delayed this long, or until the request is cancelled
	Result       *WireResult   // the completed result; nil: one generated with this server's /cdn/ URLs
}

// WireResult is a completed job's "result" object as sent on the wire.
type WireResult struct {
	Title    string `json:"title"`
	BPM      any    `json:"bpm"`
	Duration string `json:"duration"`
	SongURL  string `json:"song_url"`
	ImageURL string `json:"image_url"`
	Tags     string `json:"tags"`
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // escaped, as sent: "/api/jobs/a%2Fb"
	Header http.Header
	Body   []byte
	Time   time.Time // when the request arrived
	// Status is what the server answered and Done when the answer was
	// written; both are zero while the request is being served.
	Status int
	Done   time.Time
}

// JobInfo describes a job the server created.
type JobInfo struct {
	ID, Prompt string
	Polls      int    // GET requests for the job, errors included
	Status     string // "running", "completed", "failed", or "expired" (NotFound)
	CreatedAt  time.Time
	// EndedAt is when a poll first answered the job ended (completed,
	// failed or 404); zero while it runs. Later polls still answer the
	// same end, as Whisul does.
	EndedAt time.Time
}

// Server is a fake Whisul API. It is safe for concurrent use.
type Server struct {
	// URL is the base URL to give the client, ending in "/api".
	URL string

	srv  *httptest.Server
	key  string
	keys map[string]bool // AddKey's extra keys

	mu        sync.Mutex
	changed   testkit.Signal // notified on every request and response
	reqs      []Request
	jobs      map[string]*job
	order     []string
	def       Script
	prompts   map[string]Script
	failN     int
	failCode  int
	failAfter string
	running   int
	peak      int
	audioType string
	audio     []byte
	limit     *rate.Limiter // nil: no request limit
	faults    *faults       // nil: no random faults
}

type job struct {
	info       JobInfo
	script     Script
	finishedAt time.Time
	errorsSent int // 500s and 429s answered so far
	runsSent   int // "running" answers so far
	result     WireResult
}

// NewServer starts a fake that accepts key as its API key; tb.Cleanup
// closes it.
func NewServer(tb testing.TB, key string) *Server {
	tb.Helper()
	s := &Server{
		key:       key,
		keys:      map[string]bool{},
		jobs:      make(map[string]*job),
		prompts:   make(map[string]Script),
		audioType: "audio/mpeg",
		audio:     silentMP3,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/generate", s.generate)
	mux.HandleFunc("GET /api/jobs/{id}", s.poll)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found", "No such endpoint")
	})
	mux.HandleFunc("GET /cdn/covers/{file}", s.media(".jpg"))
	mux.HandleFunc("GET /cdn/audio/{file}", s.media(".mp3"))
	s.srv = httptest.NewServer(s.handle(mux))
	s.URL = s.srv.URL + "/api"
	tb.Cleanup(s.srv.Close)
	return s
}

// SetDefault sets the script of jobs whose prompt has no OnPrompt script.
func (s *Server) SetDefault(sc Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = sc
}

// OnPrompt sets the script of jobs submitted with exactly this prompt.
func (s *Server) OnPrompt(prompt string, sc Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prompts[prompt] = sc
}

// FailGenerate makes the next n POST /generate answer status, with
// Whisul's error body and, when retryAfter is non-empty, a Retry-After
// header. No job is created for them.
func (s *Server) FailGenerate(n int, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode, s.failAfter = n, status, retryAfter
}

// SetRateLimit makes the API allow perSecond requests a second (bursts of
// up to one second's worth) and answer the rest 429 with Retry-After: 1, as
// a Whisul plan with a request limit would; 0 removes the limit. Media
// under /cdn/ are not limited.
func (s *Server) SetRateLimit(perSecond float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = nil
	if perSecond > 0 {
		s.limit = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
	}
}

// SetAudio sets what /cdn/audio/ serves (default: a short silent MP3).
func (s *Server) SetAudio(contentType string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audioType, s.audio = contentType, bytes.Clone(body)
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyFromLocked(0)
}

// RequestsSince returns the requests received after the first i, in
// order, so a test that follows a long run copies each request once. A
// request still being served has Status 0; read it again later for its
// answer.
func (s *Server) RequestsSince(i int) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyFromLocked(max(i, 0))
}

func (s *Server) copyFromLocked(from int) []Request {
	if from >= len(s.reqs) {
		return nil
	}
	out := make([]Request, len(s.reqs)-from)
	for i, r := range s.reqs[from:] {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Count returns the number of requests with method (any if empty) whose
// escaped path starts with pathPrefix, e.g. Count("POST", "/api/generate").
func (s *Server) Count(method, pathPrefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Jobs returns the jobs created, in order of submission.
func (s *Server) Jobs() []JobInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobInfo, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.jobs[id].info)
	}
	return out
}

// FinishAll makes every job still running complete at its next poll, as
// if Whisul had just finished them; a test uses it to end jobs scripted to
// run for a long time.
func (s *Server) FinishAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.info.Status == "running" {
			j.script = Script{Result: j.script.Result}
		}
	}
}

// Running returns the number of jobs submitted and not yet ended. A job
// ends when a poll answers completed, failed, or (NotFound) 404.
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// PeakRunning returns the largest Running() has been.
func (s *Server) PeakRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Wait returns nil once cond() is true, checking now and again after every
// request the server receives and after every response it finishes, or
// ctx.Err() when ctx is done first. cond is called without the server's
// lock held, so it may call the server's methods.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	if s.changed.Wait(ctx, cond) != nil {
		return ctx.Err()
	}
	return nil
}

// handle records every request, checks the key on /api, and wakes Wait
// callers before and after the request is served.
func (s *Server) handle(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		i := len(s.reqs)
		s.reqs = append(s.reqs, Request{
			Method: r.Method,
			Path:   r.URL.EscapedPath(),
			Header: r.Header.Clone(),
			Body:   body,
			Time:   time.Now(),
		})
		s.changed.Notify()
		api := strings.HasPrefix(r.URL.Path, "/api/")
		authed := s.authorizedLocked(r.Header.Get("Authorization"))
		s.mu.Unlock()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.mu.Lock()
			s.reqs[i].Status, s.reqs[i].Done = sw.code(), time.Now()
			s.changed.Notify()
			s.mu.Unlock()
		}()

		if api && !authed {
			writeError(sw, http.StatusUnauthorized, "Unauthorized", "Invalid or missing API key")
			return
		}
		s.mu.Lock()
		limited := s.limit != nil && api && !s.limit.Allow()
		fault := 0
		if !limited && api {
			fault = s.faults.draw()
		}
		s.mu.Unlock()
		if limited || fault == http.StatusTooManyRequests {
			sw.Header().Set("Retry-After", "1")
			writeStatusError(sw, http.StatusTooManyRequests)
			return
		}
		if fault != 0 {
			writeStatusError(sw, fault)
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// authorizedLocked reports whether an Authorization header carries one of
// the server's keys; s.mu is held.
func (s *Server) authorizedLocked(header string) bool {
	key, ok := strings.CutPrefix(header, "Bearer ")
	return ok && (key == s.key || s.keys[key])
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// code is the status sent, 200 if the handler wrote nothing.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
