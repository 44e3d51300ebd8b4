package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeMP3 is a body that sniffs as binary, as real audio does.
func fakeMP3(n int) []byte {
	b := make([]byte, n)
	copy(b, "ID3\x04\x00\x00\x00\x00\x00\x00")
	for i := 10; i < n; i++ {
		b[i] = byte(i*7 + 0xf0)
	}
	return b
}

// serveAudio answers with body under contentType ("" sends none), with a
// Content-Length.
func serveAudio(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		} else {
			w.Header()["Content-Type"] = nil // keep net/http from sniffing one
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

func newAudioServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestAudioFetchMP3(t *testing.T) {
	t.Parallel()
	body := fakeMP3(4096)
	srv := newAudioServer(t, serveAudio("audio/mpeg", body))
	f := newAudioFetcher(srv.Client(), 0, 0)
	file, err := f.fetch(t.Context(), srv.URL+"/songs/Night%20Drive%20(v2).mp3?sig=abc", 0)
	if err != nil {
		t.Fatalf("fetch = %v", err)
	}
	if file.Name != "Night_Drive__v2_.mp3" || file.ContentType != "audio/mpeg" {
		t.Errorf("fetch = name %q, type %q; want Night_Drive__v2_.mp3, audio/mpeg", file.Name, file.ContentType)
	}
	got, err := io.ReadAll(file.Reader)
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("fetched %d bytes, %v; want the %d bytes served", len(got), err, len(body))
	}
	if n := f.inUse(); n != 0 {
		t.Errorf("inFlight() after fetch = %d; want 0", n)
	}
}

func TestAudioFetchAccepts(t *testing.T) {
	t.Parallel()
	body := fakeMP3(2048)
	tests := []struct {
		name        string
		path        string
		contentType string
		maxBytes    int64
		wantName    string
		wantType    string
	}{
		{"ogg type, no extension", "/jobs/abc/audio", "audio/ogg", 0, "audio.ogg", "audio/ogg"},
		{"type parameters", "/a.mp3", "Audio/MPEG; charset=binary", 0, "a.mp3", "audio/mpeg"},
		{"octet-stream with an audio name", "/x/take.m4a", "application/octet-stream", 0, "take.m4a", "audio/mp4"},
		{"no type with an audio name", "/x/take.WAV", "", 0, "take.WAV", "audio/wav"},
		{"application/ogg", "/x/", "application/ogg", 0, "x.ogg", "application/ogg"},
		{"unknown audio type", "/", "audio/x-something", 0, "song.mp3", "audio/x-something"},
		{"exactly the cap", "/a.mp3", "audio/mpeg", int64(len(body)), "a.mp3", "audio/mpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAudioServer(t, serveAudio(tt.contentType, body))
			file, err := newAudioFetcher(srv.Client(), 0, 0).fetch(t.Context(), srv.URL+tt.path, tt.maxBytes)
			if err != nil {
				t.Fatalf("fetch(%s, type %q) = %v", tt.path, tt.contentType, err)
			}
			if file.Name != tt.wantName || file.ContentType != tt.wantType {
				t.Errorf("fetch(%s, type %q) = name %q, type %q; want %q, %q",
					tt.path, tt.contentType, file.Name, file.ContentType, tt.wantName, tt.wantType)
			}
		})
	}
}

// blockBody announces a body, sends part of it, and then stalls until the
// client goes away.
func blockBody(contentLength string, first []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		if contentLength != "" {
			w.Header().Set("Content-Length", contentLength)
		}
		w.Write(first)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
}

// endlessAudio streams audio without a Content-Length until the client stops
// reading.
func endlessAudio(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "audio/mpeg")
	chunk := fakeMP3(1024)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

func TestAudioFetchFallsBack(t *testing.T) {
	t.Parallel()
	html := []byte("<!DOCTYPE html><html><body>Access denied</body></html>")
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		path     string
		maxBytes int64
		timeout  time.Duration
		want     error // nil: only the reason is checked
		reason   string
	}{
		{name: "404", handler: http.NotFound, path: "/a.mp3", want: errAudioStatus, reason: "status"},
		{name: "500", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
			path: "/a.mp3", want: errAudioStatus, reason: "status"},
		{name: "HTML", handler: serveAudio("text/html; charset=utf-8", html), path: "/a.mp3",
			want: errAudioType, reason: "not_audio"},
		{name: "HTML as octet-stream", handler: serveAudio("application/octet-stream", html), path: "/a.mp3",
			want: errAudioType, reason: "not_audio"},
		{name: "HTML labelled audio", handler: serveAudio("audio/mpeg", html), path: "/a.mp3",
			want: errAudioType, reason: "not_audio"},
		{name: "octet-stream without an audio name", handler: serveAudio("application/octet-stream", fakeMP3(100)),
			path: "/a.bin", want: errAudioType, reason: "not_audio"},
		{name: "image", handler: serveAudio("image/png", fakeMP3(100)), path: "/a.mp3",
			want: errAudioType, reason: "not_audio"},
		{name: "empty", handler: serveAudio("audio/mpeg", nil), path: "/a.mp3",
			want: errAudioType, reason: "not_audio"},
		{name: "one byte over the cap", handler: serveAudio("audio/mpeg", fakeMP3(1025)), path: "/a.mp3",
			maxBytes: 1024, want: errAudioTooLarge, reason: "too_large"},
		// The body never comes: only a check of the header ends this
		// before the timeout.
		{name: "oversized Content-Length", handler: blockBody(strconv.Itoa(1<<30), nil), path: "/a.mp3",
			want: errAudioTooLarge, reason: "too_large"},
		{name: "oversized chunked", handler: endlessAudio, path: "/a.mp3", maxBytes: 64 << 10,
			want: errAudioTooLarge, reason: "too_large"},
		{name: "slow headers", handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			path: "/a.mp3", timeout: 50 * time.Millisecond, want: errAudioTimeout, reason: "timeout"},
		{name: "slow body", handler: blockBody("", fakeMP3(1024)), path: "/a.mp3",
			timeout: 50 * time.Millisecond, want: errAudioTimeout, reason: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newAudioServer(t, tt.handler)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second // the cases that must not wait
			}
			f := newAudioFetcher(srv.Client(), 0, timeout)
			songURL := srv.URL + tt.path + "?sig=SECRET"
			file, err := f.fetch(t.Context(), songURL, tt.maxBytes)
			if err == nil {
				t.Fatalf("fetch(%s) = %q, nil; want %v", tt.path, file.Name, tt.want)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("fetch(%s) = %v; want %v", tt.path, err, tt.want)
			}
			if got := audioFallbackReason(err); got != tt.reason {
				t.Errorf("audioFallbackReason(%v) = %q; want %q", err, got, tt.reason)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("fetch(%s) = %q; want no URL query in the error", tt.path, err)
			}
			if n := f.inUse(); n != 0 {
				t.Errorf("inFlight() after a failed fetch = %d; want 0", n)
			}
		})
	}
}

func TestAudioFetchUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	songURL := srv.URL + "/a.mp3?sig=SECRET"
	srv.Close()
	_, err := newAudioFetcher(srv.Client(), 0, time.Minute).fetch(t.Context(), songURL, 0)
	if err == nil || audioFallbackReason(err) != "unreachable" {
		t.Errorf("fetch(closed server) = %v (reason %q); want a network error", err, audioFallbackReason(err))
	}
	if err != nil && strings.Contains(err.Error(), "SECRET") {
		t.Errorf("fetch(closed server) = %q; want no URL query in the error", err)
	}
}

func TestAudioFetchBadURL(t *testing.T) {
	t.Parallel()
	f := newAudioFetcher(nil, 0, 0)
	for _, u := range []string{"", "ftp://cdn.example/a.mp3", "/a.mp3", "https:///a.mp3", "http://[::1"} {
		if _, err := f.fetch(t.Context(), u, 0); !errors.Is(err, errAudioURL) {
			t.Errorf("fetch(%q) = %v; want errAudioURL", u, err)
		}
	}
}

func TestAudioFetchCancelled(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	var once sync.Once
	srv := newAudioServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-r.Context().Done()
	}))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := newAudioFetcher(srv.Client(), 0, time.Minute).fetch(ctx, srv.URL+"/a.mp3", 0)
	if !errors.Is(err, context.Canceled) || audioFallbackReason(err) != "cancelled" {
		t.Errorf("fetch(cancelled mid-request) = %v (reason %q); want context.Canceled", err, audioFallbackReason(err))
	}
}

// gatedBodies answers every request at once with audio headers and a body
// that blocks until release is closed, counting the bodies being read.
type gatedBodies struct {
	size    int64 // the body's length; Content-Length unless unannounced
	unknown bool  // send no Content-Length
	release chan struct{}
	mu      sync.Mutex
	reading int
}

func (g *gatedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	length := g.size
	if g.unknown {
		length = -1
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Request: req, ContentLength: length,
		Header: http.Header{"Content-Type": {"audio/mpeg"}},
		Body:   io.NopCloser(&gatedReader{g: g, r: bytes.NewReader(fakeMP3(int(g.size)))}),
	}, nil
}

func (g *gatedBodies) readers() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reading
}

type gatedReader struct {
	g       *gatedBodies
	r       *bytes.Reader
	started bool
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if !r.started {
		r.started = true
		r.g.mu.Lock()
		r.g.reading++
		r.g.mu.Unlock()
		<-r.g.release
	}
	return r.r.Read(p)
}

func TestAudioFetchMemoryBudget(t *testing.T) {
	for _, tt := range []struct {
		name     string
		unknown  bool  // no Content-Length: each reserves the cap
		maxBytes int64 // the cap
		budget   int64
		want     int // bodies read at once
	}{
		{"announced", false, 0, 4 * 1025, 4},
		{"unannounced", true, 3000, 2*3000 + 10, 2},
		{"no bound", false, 0, -1, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n, size = 20, 1024
				g := &gatedBodies{size: size, unknown: tt.unknown, release: make(chan struct{})}
				f := newAudioFetcher(&http.Client{Transport: g}, tt.budget, time.Hour)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						_, errs[i] = f.fetch(t.Context(), fmt.Sprintf("http://cdn.test/%d.mp3", i), tt.maxBytes)
					})
				}
				synctest.Wait() // every fetch reads its body or waits for memory
				if got := g.readers(); got != tt.want {
					t.Errorf("%d bodies read at once; want %d", got, tt.want)
				}
				if tt.budget > 0 && f.inUse() > tt.budget {
					t.Errorf("inUse() = %d; want at most the budget, %d", f.inUse(), tt.budget)
				}
				close(g.release)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("fetch %d = %v", i, err)
					}
				}
				if got := f.inUse(); got != 0 {
					t.Errorf("inUse() at the end = %d; want 0", got)
				}
			})
		})
	}
}

func TestAudioFetchMemoryTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The first fetch's body never comes until release, so it keeps
		// the whole budget past its own timeout.
		g := &gatedBodies{size: 1024, release: make(chan struct{})}
		f := newAudioFetcher(&http.Client{Transport: g}, 1025, 20*time.Second)
		done := make(chan error)
		go func() {
			_, err := f.fetch(t.Context(), "http://cdn.test/first.mp3", 0)
			done <- err
		}()
		synctest.Wait() // the first fetch holds the budget
		start := time.Now()
		_, err := f.fetch(t.Context(), "http://cdn.test/second.mp3", 0)
		if !errors.Is(err, errAudioTimeout) || !strings.Contains(err.Error(), "memory") {
			t.Errorf("fetch while the budget is held = %v; want errAudioTimeout waiting for memory", err)
		}
		if waited := time.Since(start); waited != 20*time.Second {
			t.Errorf("the second fetch gave up after %v; want the 20s timeout", waited)
		}
		close(g.release)
		<-done
		if got := f.inUse(); got != 0 {
			t.Errorf("inUse() at the end = %d; want 0", got)
		}
	})
}

// chunkReader returns at most n bytes per Read, like a chunked body.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// failAfter returns its bytes, then err.
type failAfter struct {
	r   io.Reader
	err error
}

func (f failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestReadCapped(t *testing.T) {
	t.Parallel()
	errReset := errors.New("connection reset")
	tests := []struct {
		name    string
		n       int   // body bytes
		size    int64 // as announced; -1 unknown
		limit   int64
		fail    error // the reader's error after the body
		wantErr error
		wantCap int
	}{
		{"announced: one buffer", 300 << 10, 300 << 10, 10 << 20, nil, nil, 300<<10 + 1},
		{"unannounced: joined exactly", 300 << 10, -1, 10 << 20, nil, nil, 300 << 10},
		{"unannounced, one chunk", 1000, -1, 10 << 20, nil, nil, audioChunk},
		{"unannounced, whole chunks", 2 * audioChunk, -1, 10 << 20, nil, nil, 2 * audioChunk},
		{"unannounced, exactly the cap", 100 << 10, -1, 100 << 10, nil, nil, 100 << 10},
		{"unannounced, over the cap", 100<<10 + 1, -1, 100 << 10, nil, errAudioTooLarge, 0},
		{"announced, more sent than the cap", 5000, 10, 4096, nil, errAudioTooLarge, 0},
		{"broken connection", 5000, -1, 10 << 20, errReset, errReset, 0},
	}
	for _, tt := range tests {
		body := fakeMP3(tt.n)
		var r io.Reader = chunkReader{bytes.NewReader(body), 16 << 10}
		if tt.fail != nil {
			r = failAfter{r, tt.fail}
		}
		got, err := readCapped(r, tt.size, tt.limit)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: readCapped(size %d, limit %d) = %v; want %v", tt.name, tt.size, tt.limit, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if !bytes.Equal(got, body) {
			t.Errorf("%s: readCapped returned %d bytes; want the %d bytes read", tt.name, len(got), len(body))
		}
		if cap(got) != tt.wantCap {
			t.Errorf("%s: readCapped(size %d, limit %d) returned a buffer of %d bytes; want %d",
				tt.name, tt.size, tt.limit, cap(got), tt.wantCap)
		}
	}
}

func TestAudioFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, contentType, want string
	}{
		{"/songs/abc.mp3", "audio/mpeg", "abc.mp3"},
		{"/songs/My Song!.ogg", "audio/ogg", "My_Song_.ogg"},
		{"/songs/Café.flac", "audio/flac", "Caf__.flac"},
		{"/songs/abc", "audio/wav", "abc.wav"},
		{"/songs/abc", "audio/x-unknown", "abc.mp3"},
		{"/songs/abc.php", "audio/mp4", "abc.php.m4a"},
		{"/songs/.mp3", "audio/mpeg", "song.mp3"},
		{"/songs/..mp3", "audio/mpeg", "song.mp3"},
		{"/songs/.hidden", "audio/ogg", "hidden.ogg"},
		{"/", "audio/mpeg", "song.mp3"},
		{"", "audio/ogg", "song.ogg"},
		{"/a/../../etc/passwd", "audio/mpeg", "passwd.mp3"},
		{"/songs/a%2Fb.mp3", "audio/mpeg", "b.mp3"},
		{"/songs/" + strings.Repeat("x", 200) + ".m4a", "audio/mp4", strings.Repeat("x", maxAudioStem) + ".m4a"},
	}
	for _, tt := range tests {
		u, err := url.Parse("https://cdn.example" + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := audioFileName(u, tt.contentType); got != tt.want {
			t.Errorf("audioFileName(%q, %q) = %q; want %q", tt.path, tt.contentType, got, tt.want)
		}
	}
}

// BenchmarkFetchConcurrent runs 16 deliveries at once, each fetching a
// 5 MiB song through the default bound of 4 downloads; B/op is what 16
// songs cost, with a Content-Length (one buffer of the song's size) and
// without (chunks joined at the end).
func BenchmarkFetchConcurrent(b *testing.B) {
	const deliveries, size = 16, 5 << 20
	body := fakeMP3(size)
	var now, peak atomic.Int32
	srv := newAudioServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		if r.URL.Query().Has("chunked") {
			w.Write(body) // too large to buffer, so net/http sends it chunked
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = deliveries
	f := newAudioFetcher(&http.Client{Transport: tr}, 0, time.Minute)
	for _, bb := range []struct{ name, query string }{{"content-length", ""}, {"chunked", "?chunked"}} {
		b.Run(bb.name, func(b *testing.B) {
			peak.Store(0)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(deliveries * size)
			for b.Loop() {
				var wg sync.WaitGroup
				for range deliveries {
					wg.Go(func() {
						file, err := f.fetch(ctx, srv.URL+"/song.mp3"+bb.query, 0)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, file.Reader) // the upload
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(peak.Load()), "peak-downloads")
		})
	}
}
