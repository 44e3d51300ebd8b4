package whisultest

import (
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/internal/testkit"
)

const testKey = "test-key-123"

// call makes one request to the fake and returns the status, Retry-After
// and decoded JSON body (nil when not JSON).
func call(t *testing.T, method, url, key, body string) (int, string, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, "", nil
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err) // Errorf: call runs in goroutines too
		return 0, "", nil
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header.Get("Retry-After"), m
}

// submit creates a job and returns its id ("" after reporting a failure).
func submit(t *testing.T, s *Server, prompt string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"prompt": prompt})
	code, _, m := call(t, "POST", s.URL+"/generate", testKey, string(body))
	id, _ := m["job_id"].(string)
	if code != http.StatusAccepted || m["poll_url"] != "/jobs/"+id || m["message"] != "Composition task received." || id == "" {
		t.Errorf("POST /generate %q = %d %v; want 202 with job_id, poll_url /jobs/<id>, message", prompt, code, m)
		return ""
	}
	return id
}

func TestServerURLHasAPIPrefix(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	if !strings.HasSuffix(s.URL, "/api") {
		t.Errorf("URL = %q; want it to end in /api", s.URL)
	}
	code, _, _ := call(t, "GET", strings.TrimSuffix(s.URL, "/api")+"/jobs/x", testKey, "")
	if code != http.StatusNotFound {
		t.Errorf("GET /jobs/x without /api = %d; want 404", code)
	}
}

func TestServerJobLifecycle(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.SetDefault(Script{Polls: 2})
	id := submit(t, s, "a trap song")

	for i := range 2 {
		code, _, m := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
		if code != 200 || m["status"] != "running" || m["result"] != nil || m["error"] != nil {
			t.Fatalf("poll %d = %d %v; want 200 running with null result and error", i, code, m)
		}
		if _, ok := m["finished_at"]; ok {
			t.Errorf("poll %d has finished_at: %v", i, m)
		}
		if _, err := time.Parse(timeLayout, m["started_at"].(string)); err != nil {
			t.Errorf("poll %d started_at: %v", i, err)
		}
	}
	code, _, m := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
	res, _ := m["result"].(map[string]any)
	if code != 200 || m["status"] != "completed" || res == nil || m["error"] != nil || m["finished_at"] == nil {
		t.Fatalf("final poll = %d %v; want completed", code, m)
	}
	for _, k := range []string{"title", "bpm", "duration", "song_url", "image_url", "tags"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result lacks %q: %v", k, res)
		}
	}
	if s.Running() != 0 || s.PeakRunning() != 1 {
		t.Errorf("Running, PeakRunning = %d, %d; want 0, 1", s.Running(), s.PeakRunning())
	}
	want := []JobInfo{{ID: id, Prompt: "a trap song", Polls: 3, Status: "completed"}}
	if diff := cmp.Diff(want, s.Jobs(), cmp.FilterPath(func(p cmp.Path) bool { s := p.Last().String(); return s == ".CreatedAt" || s == ".EndedAt" }, cmp.Ignore())); diff != "" {
		t.Errorf("Jobs() mismatch (-want +got):\n%s", diff)
	}
}

func TestServerScripts(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.OnPrompt("fail", Script{Fail: true, ErrorText: "boom"})
	s.OnPrompt("fail-null", Script{Fail: true})
	s.OnPrompt("flaky", Script{ServerErrors: 1, RateLimited: 1, RetryAfter: "2"})
	s.OnPrompt("gone", Script{NotFound: true})
	s.OnPrompt("slow", Script{After: time.Hour})
	s.OnPrompt("due", Script{After: time.Nanosecond, Polls: 5})
	s.OnPrompt("custom", Script{Result: &WireResult{Title: "T", BPM: "90", SongURL: "https://x/s.mp3"}})

	type poll struct {
		code       int
		retryAfter string
		status     any
		errText    any
	}
	tests := []struct {
		prompt string
		want   []poll
	}{
		{"fail", []poll{{200, "", "failed", "boom"}}},
		{"fail-null", []poll{{200, "", "failed", nil}}},
		{"flaky", []poll{{500, "", nil, "Internal server error"}, {429, "2", nil, "Too many requests"}, {200, "", "completed", nil}}},
		{"gone", []poll{{404, "", nil, "Not found"}, {404, "", nil, "Not found"}}},
		{"slow", []poll{{200, "", "running", nil}, {200, "", "running", nil}}},
		{"due", []poll{{200, "", "completed", nil}}},
		{"custom", []poll{{200, "", "completed", nil}}},
	}
	for _, tt := range tests {
		id := submit(t, s, tt.prompt)
		for i, want := range tt.want {
			code, ra, m := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
			got := poll{code, ra, m["status"], m["error"]}
			if got != want {
				t.Errorf("%s: poll %d = %+v; want %+v", tt.prompt, i, got, want)
			}
			if got.status == "failed" && m["finished_at"] == nil {
				t.Errorf("%s: failed job lacks finished_at: %v", tt.prompt, m)
			}
			if tt.prompt == "custom" && m["result"].(map[string]any)["bpm"] != "90" {
				t.Errorf("custom result = %v; want bpm \"90\"", m["result"])
			}
		}
	}
	if got := s.Running(); got != 1 { // only "slow" is left
		t.Errorf("Running() = %d; want 1", got)
	}
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	tests := []struct {
		method, path, key, body string
		want                    int
		wantCode                string
	}{
		{"POST", "/generate", "", `{"prompt":"x"}`, 401, "Unauthorized"},
		{"POST", "/generate", "wrong", `{"prompt":"x"}`, 401, "Unauthorized"},
		{"GET", "/jobs/nope", "", "", 401, "Unauthorized"},
		{"GET", "/jobs/nope", testKey, "", 404, "Not found"},
		{"POST", "/generate", testKey, `{"prompt":""}`, 400, "Invalid input"},
		{"POST", "/generate", testKey, `{"prompt":"  \n"}`, 400, "Invalid input"},
		{"POST", "/generate", testKey, `{"prompt":5}`, 400, "Invalid input"},
		{"POST", "/generate", testKey, `{}`, 400, "Invalid input"},
		{"POST", "/generate", testKey, `not json`, 400, "Invalid input"},
	}
	for _, tt := range tests {
		code, _, m := call(t, tt.method, s.URL+tt.path, tt.key, tt.body)
		if code != tt.want || m["error"] != tt.wantCode || m["message"] == "" {
			t.Errorf("%s %s (key %q, body %s) = %d %v; want %d %q", tt.method, tt.path, tt.key, tt.body, code, m, tt.want, tt.wantCode)
		}
	}
	if len(s.Jobs()) != 0 {
		t.Errorf("Jobs() = %v; want none", s.Jobs())
	}
}

func TestServerFailGenerate(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.FailGenerate(2, 429, "3")
	for i := range 2 {
		code, ra, m := call(t, "POST", s.URL+"/generate", testKey, `{"prompt":"x"}`)
		if code != 429 || ra != "3" || m["error"] != "Too many requests" {
			t.Errorf("POST %d = %d (Retry-After %q) %v; want 429 (3)", i, code, ra, m)
		}
	}
	submit(t, s, "x")
	if n := len(s.Jobs()); n != 1 {
		t.Errorf("len(Jobs()) = %d; want 1", n)
	}
	if n := s.Count("POST", "/api/generate"); n != 3 {
		t.Errorf(`Count("POST", "/api/generate") = %d; want 3`, n)
	}
}

func TestServerRecordsRequests(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	call(t, "GET", s.URL+"/jobs/a%2Fb", testKey, "")
	call(t, "POST", s.URL+"/generate", testKey, `{"prompt":"p"}`)
	got := s.Requests()
	if len(got) != 2 {
		t.Fatalf("Requests() = %d requests; want 2", len(got))
	}
	if got[0].Method != "GET" || got[0].Path != "/api/jobs/a%2Fb" || got[0].Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("Requests()[0] = %+v; want GET /api/jobs/a%%2Fb with the key", got[0])
	}
	if got[1].Method != "POST" || string(got[1].Body) != `{"prompt":"p"}` || got[1].Time.Before(got[0].Time) {
		t.Errorf("Requests()[1] = %+v; want the POST with its body", got[1])
	}
}

func TestServerDelayRespectsCancel(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.SetDefault(Script{Delay: time.Hour})
	id := submit(t, s, "x")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the poll has arrived.
		s.Wait(ctx, func() bool { return s.Count("GET", "/api/jobs/") == 1 })
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/jobs/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("GET with Delay 1h returned %s; want cancellation", resp.Status)
	}
}

func TestServerWait(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	const n = 20
	go func() {
		for range n {
			resp, err := http.Get(s.URL + "/jobs/x")
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	if err := s.Wait(t.Context(), func() bool { return s.Count("", "/api/") >= n }); err != nil {
		t.Fatalf("Wait(Count >= %d) = %v", n, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Wait(ctx, func() bool { return false }); err != context.Canceled {
		t.Errorf("Wait(cancelled, false) = %v; want context.Canceled", err)
	}
}

func TestServerConcurrentPeak(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	const n = 200
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i] = submit(t, s, fmt.Sprint("song ", i)) })
	}
	wg.Wait()
	if got := s.Running(); got != n {
		t.Errorf("Running() after %d submissions = %d", n, got)
	}
	for _, id := range ids {
		wg.Go(func() { call(t, "GET", s.URL+"/jobs/"+id, testKey, "") })
	}
	if err := s.Wait(t.Context(), func() bool { return s.Running() == 0 }); err != nil {
		t.Fatalf("Wait(Running() == 0) = %v", err)
	}
	wg.Wait()
	if got := s.PeakRunning(); got != n {
		t.Errorf("PeakRunning() = %d; want %d", got, n)
	}
}

func TestServerMedia(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	id := submit(t, s, "x")
	_, _, m := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
	res := m["result"].(map[string]any)

	// No key: the CDN needs none.
	resp, body := testkit.HTTPDo(t, "GET", res["image_url"].(string), nil)
	if ctype := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ctype != "image/jpeg" {
		t.Errorf("cover = %s %q; want 200 image/jpeg", resp.Status, ctype)
	}
	if _, err := jpeg.Decode(strings.NewReader(body)); err != nil {
		t.Errorf("cover does not decode: %v", err)
	}

	resp, body = testkit.HTTPDo(t, "GET", res["song_url"].(string), nil)
	if ctype := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ctype != "audio/mpeg" {
		t.Errorf("audio = %s %q; want 200 audio/mpeg", resp.Status, ctype)
	}
	if frames := mp3Frames([]byte(body)); frames < 5 {
		t.Errorf("audio has %d valid MP3 frames; want several", frames)
	}

	s.SetAudio("audio/ogg", []byte("OggS"))
	resp, body = testkit.HTTPDo(t, "GET", res["song_url"].(string), nil)
	if ctype := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ctype != "audio/ogg" || body != "OggS" {
		t.Errorf("after SetAudio: %s %q %q; want 200 audio/ogg OggS", resp.Status, ctype, body)
	}
}

// mp3Frames walks MPEG-1 Layer III frames and returns how many it found
// before the data ended or stopped being frames (0 if any byte is left over).
func mp3Frames(b []byte) int {
	bitrates := []int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	rates := []int{44100, 48000, 32000}
	n := 0
	for len(b) > 0 {
		if len(b) < 4 || b[0] != 0xFF || b[1]&0xFE != 0xFA {
			return 0
		}
		bi, ri := int(b[2]>>4), int(b[2]>>2&3)
		if bi == 0 || bi >= len(bitrates) || ri >= len(rates) {
			return 0
		}
		size := 144*bitrates[bi]*1000/rates[ri] + int(b[2]>>1&1)
		if size > len(b) {
			return 0
		}
		b = b[size:]
		n++
	}
	return n
}

func TestFinishAllEndsLongJobs(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.SetDefault(Script{After: time.Hour})
	id := submit(t, s, "endless")
	if got := pollStatus(t, s, id); got != "running" {
		t.Fatalf("status before FinishAll = %q; want running", got)
	}
	s.FinishAll()
	if got := pollStatus(t, s, id); got != "completed" {
		t.Errorf("status after FinishAll = %q; want completed", got)
	}
}

// pollStatus polls a job once and returns its status.
func pollStatus(t *testing.T, s *Server, id string) string {
	t.Helper()
	_, _, m := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
	status, _ := m["status"].(string)
	return status
}

func TestServerRateLimit(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.SetRateLimit(3) // a burst of 3, then 3 a second
	id := submit(t, s, "x")
	var allowed, limited int
	for range 5 {
		code, ra, _ := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
		switch {
		case code == http.StatusTooManyRequests && ra == "1":
			limited++
		case code == http.StatusOK:
			allowed++
		default:
			t.Errorf("GET /jobs/%s = %d (Retry-After %q); want 200 or 429 with Retry-After 1", id, code, ra)
		}
	}
	// The submission took one token of the burst of three.
	if allowed != 2 || limited != 3 {
		t.Errorf("5 polls under SetRateLimit(3) after a submission: %d allowed, %d limited; want 2 and 3", allowed, limited)
	}
	if code, _, _ := call(t, "GET", strings.TrimSuffix(s.URL, "/api")+"/cdn/audio/a.mp3", "", ""); code != http.StatusOK {
		t.Errorf("GET /cdn/audio/a.mp3 under a rate limit = %d; want 200: media are not limited", code)
	}
	s.SetRateLimit(0)
	if code, _, _ := call(t, "GET", s.URL+"/jobs/"+id, testKey, ""); code != http.StatusOK {
		t.Errorf("GET after SetRateLimit(0) = %d; want 200", code)
	}
}
