package whisul

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/internal/testkit"
)

// The documentation's example bodies.
const (
	docRunning = `{"status": "running", "prompt": "a trap song", "result": null, "error": null,
 "started_at": "2026-02-17 15:39:34"}`
	docCompleted = `{"status": "completed", "prompt": "a trap song",
 "result": {"title": "Midnight Grid", "bpm": 140, "duration": "2:47",
            "song_url": "https://cdn.whisul.com/audio/81fa5ff7.mp3",
            "image_url": "https://cdn.whisul.com/covers/81fa5ff7.jpg",
            "tags": "trap, dark, 808s, synth, bass"},
 "error": null, "started_at": "2026-02-17 15:39:34",
 "finished_at": "2026-02-17 15:41:58"}`
	docFailed = `{"status": "failed", "prompt": "a trap song", "result": null,
 "error": "Generation failed", "started_at": "2026-02-17 15:39:34",
 "finished_at": "2026-02-17 15:41:58"}`
	docSubmission = `{
  "message": "Composition task received.",
  "job_id": "81fa5ff7-6197-4c24-8062-c0ff8b62d58d",
  "poll_url": "/jobs/81fa5ff7-6197-4c24-8062-c0ff8b62d58d"
}`
)

var (
	started  = time.Date(2026, 2, 17, 15, 39, 34, 0, time.UTC)
	finished = time.Date(2026, 2, 17, 15, 41, 58, 0, time.UTC)
)

func newTestLogger() (*slog.Logger, *testkit.Buffer) {
	buf := &testkit.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDecodeJobDocExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       Job
	}{
		{"running", docRunning, Job{Status: StatusRunning, RawStatus: "running", Prompt: "a trap song", StartedAt: started}},
		{"completed", docCompleted, Job{
			Status: StatusCompleted, RawStatus: "completed", Prompt: "a trap song",
			StartedAt: started, FinishedAt: finished,
			Result: &Result{
				Title: "Midnight Grid", BPM: 140, Duration: 2*time.Minute + 47*time.Second, DurationText: "2:47",
				SongURL:  "https://cdn.whisul.com/audio/81fa5ff7.mp3",
				ImageURL: "https://cdn.whisul.com/covers/81fa5ff7.jpg",
				Tags:     []string{"trap", "dark", "808s", "synth", "bass"},
			},
		}},
		{"failed", docFailed, Job{Status: StatusFailed, RawStatus: "failed", Prompt: "a trap song", Error: "Generation failed", StartedAt: started, FinishedAt: finished}},
		{"failed null error", `{"status":"failed","result":null,"error":null,"started_at":"2026-02-17 15:39:34","finished_at":"2026-02-17 15:41:58"}`,
			Job{Status: StatusFailed, RawStatus: "failed", StartedAt: started, FinishedAt: finished}},
		{"failed object error", `{"status":"failed","error":{"code": 7}}`, Job{Status: StatusFailed, RawStatus: "failed", Error: `{"code":7}`}},
		{"unknown status", `{"status":"queued"}`, Job{Status: StatusRunning, RawStatus: "queued"}},
		{"result ignored while running", `{"status":"running","result":{"song_url":5}}`, Job{Status: StatusRunning, RawStatus: "running"}},
		{"error ignored when completed", `{"status":"completed","error":"x","result":{"song_url":"http://a/b"}}`,
			Job{Status: StatusCompleted, RawStatus: "completed", Result: &Result{SongURL: "http://a/b"}}},
	}
	for _, tt := range tests {
		got, err := decodeJob([]byte(tt.body), discard())
		if err != nil {
			t.Errorf("decodeJob(%s) error = %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("decodeJob(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDecodeJobMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, wantMsg string }{
		{``, "empty body"},
		{`   `, "empty body"},
		{`null`, "not a JSON object"},
		{`[]`, "not a JSON object"},
		{`"running"`, "not a JSON object"},
		{`{"status":"running"`, "invalid JSON"},
		{`{"status":"running"} trailing`, "invalid JSON"},
		{`{}`, "status missing"},
		{`{"status":null}`, "status missing or not a string"},
		{`{"status":1}`, "not a string"},
		{`{"status":["running"]}`, "not a string"},
		{`{"status":"completed"}`, "no result object"},
		{`{"status":"completed","result":null}`, "no result object"},
		{`{"status":"completed","result":"https://x/a.mp3"}`, "no result object"},
		{`{"status":"completed","result":[]}`, "no result object"},
		{`{"status":"completed","result":{}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":""}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":7}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":"/audio/x.mp3"}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":"ftp://cdn/x.mp3"}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":"javascript:alert(1)"}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":"https://"}}`, "song_url"},
		{`{"status":"completed","result":{"song_url":"https://x/a","title":"a","title":1}`, "invalid JSON"},
	}
	for _, tt := range tests {
		_, err := decodeJob([]byte(tt.body), discard())
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("decodeJob(%q) = %v; want ErrMalformed mentioning %q", tt.body, err, tt.wantMsg)
		}
	}
}

// completedWith wraps result fields in a completed job body.
func completedWith(fields string) string {
	return `{"status":"completed","result":{"song_url":"https://cdn/s.mp3"` + fields + `}}`
}

func TestDecodeResultLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       Result
		wantLog    string
	}{
		{"bpm string", completedWith(`,"bpm":" 92.5 "`), Result{BPM: 92.5}, ""},
		{"bpm word", completedWith(`,"bpm":"fast"`), Result{}, ""},
		{"bpm null", completedWith(`,"bpm":null`), Result{}, ""},
		{"bpm bool", completedWith(`,"bpm":true`), Result{}, ""},
		{"bpm negative", completedWith(`,"bpm":-3`), Result{}, ""},
		{"bpm huge", completedWith(`,"bpm":1e999`), Result{}, ""},
		{"bpm NaN string", completedWith(`,"bpm":"NaN"`), Result{}, ""},
		{"bpm object", completedWith(`,"bpm":{"v":1}`), Result{}, ""},
		{"duration 10:05", completedWith(`,"duration":"10:05"`), Result{Duration: 10*time.Minute + 5*time.Second, DurationText: "10:05"}, ""},
		{"duration 0:7", completedWith(`,"duration":"0:7"`), Result{Duration: 7 * time.Second, DurationText: "0:7"}, ""},
		{"duration empty", completedWith(`,"duration":""`), Result{}, ""},
		{"duration garbage", completedWith(`,"duration":"about 3 minutes"`), Result{DurationText: "about 3 minutes"}, "unreadable duration"},
		{"duration number", completedWith(`,"duration":167`), Result{}, ""},
		{"image relative", completedWith(`,"image_url":"/covers/x.jpg"`), Result{}, "dropping invalid image_url"},
		{"image data", completedWith(`,"image_url":"data:image/png;base64,xx"`), Result{}, "dropping invalid image_url"},
		{"image empty", completedWith(`,"image_url":""`), Result{}, ""},
		{"image null", completedWith(`,"image_url":null`), Result{}, ""},
		{"tags spaced", completedWith(`,"tags":" a ,, b,  ,c "`), Result{Tags: []string{"a", "b", "c"}}, ""},
		{"tags empty", completedWith(`,"tags":""`), Result{}, ""},
		{"tags array", completedWith(`,"tags":["a"]`), Result{}, ""},
		{"title number", completedWith(`,"title":5`), Result{}, ""},
		{"unknown field", completedWith(`,"lyrics":"la la"`), Result{}, ""},
	}
	for _, tt := range tests {
		log, buf := newTestLogger()
		got, err := decodeJob([]byte(tt.body), log)
		if err != nil || got.Result == nil {
			t.Errorf("decodeJob(%s) = %+v, %v; want a result", tt.name, got, err)
			continue
		}
		tt.want.SongURL = "https://cdn/s.mp3"
		if diff := cmp.Diff(&tt.want, got.Result); diff != "" {
			t.Errorf("decodeJob(%s).Result mismatch (-want +got):\n%s", tt.name, diff)
		}
		if logged := buf.String(); tt.wantLog != "" && !strings.Contains(logged, tt.wantLog) || tt.wantLog == "" && logged != "" {
			t.Errorf("decodeJob(%s) logged %q; want %q", tt.name, logged, tt.wantLog)
		}
	}
}

func TestDecodeJobTimestamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		started string
		want    time.Time
	}{
		{`"2026-02-17 15:39:34"`, started},
		{`"2026-02-17T15:39:34Z"`, started},
		{`"2026-02-17T16:39:34+01:00"`, started},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
		{`"yesterday"`, time.Time{}},
		{`"2026-02-30 10:00:00"`, time.Time{}},
		{`1771342774`, time.Time{}},
	}
	for _, tt := range tests {
		got, err := decodeJob([]byte(`{"status":"running","started_at":`+tt.started+`}`), discard())
		if err != nil || !got.StartedAt.Equal(tt.want) || got.StartedAt.Location() != time.UTC {
			t.Errorf("decodeJob(started_at %s).StartedAt = %v, %v; want %v UTC", tt.started, got.StartedAt, err, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"2:47", 2*time.Minute + 47*time.Second, true},
		{"10:05", 10*time.Minute + 5*time.Second, true},
		{"0:7", 7 * time.Second, true},
		{"0:00", 0, true},
		{" 3:00 ", 3 * time.Minute, true},
		{"125:30", 125*time.Minute + 30*time.Second, true},
		{"1:02:03", time.Hour + 2*time.Minute + 3*time.Second, true},
		{"1:2:3", time.Hour + 2*time.Minute + 3*time.Second, true},
		{"", 0, false},
		{"2", 0, false},
		{"2:60", 0, false},
		{"2:047", 0, false},
		{"1:60:00", 0, false},
		{"-1:00", 0, false},
		{"+1:00", 0, false},
		{"1:-5", 0, false},
		{"1 :05", 0, false},
		{":05", 0, false},
		{"1:", 0, false},
		{"1:2:3:4", 0, false},
		{"1.5:00", 0, false},
		{"9999999:00", 0, false},
		{"٣:٠٥", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDuration(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestDecodeSubmission(t *testing.T) {
	t.Parallel()
	got, err := decodeSubmission([]byte(docSubmission))
	want := Submission{
		JobID:   "81fa5ff7-6197-4c24-8062-c0ff8b62d58d",
		PollURL: "/jobs/81fa5ff7-6197-4c24-8062-c0ff8b62d58d",
		Message: "Composition task received.",
	}
	if err != nil || got != want {
		t.Errorf("decodeSubmission(doc example) = %+v, %v; want %+v", got, err, want)
	}
	if got, err := decodeSubmission([]byte(`{"job_id":"x","poll_url":5}`)); err != nil || got != (Submission{JobID: "x"}) {
		t.Errorf(`decodeSubmission(poll_url 5) = %+v, %v; want {JobID: "x"}`, got, err)
	}

	for _, body := range []string{``, `null`, `[]`, `{}`, `{"job_id":""}`, `{"job_id":"  "}`, `{"job_id":5}`, `{"job_id":null}`, `<html>`} {
		if _, err := decodeSubmission([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeSubmission(%q) = %v; want ErrMalformed", body, err)
		}
	}
}

func FuzzDecodeJob(f *testing.F) {
	for _, s := range []string{
		docRunning, docCompleted, docFailed, docSubmission,
		``, `null`, `{}`, `[]`, `{"status":"queued"}`, `{"status":1}`,
		completedWith(`,"bpm":"92","duration":"0:7","tags":",,a,"`),
		completedWith(`,"duration":"1:02:03","image_url":"not a url"`),
		`{"status":"completed","result":{"song_url":"http://[::1]:80/x"}}`,
		`{"status":"failed","error":{"nested":[1,2,3]},"started_at":"2026-02-17T15:39:34Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := decodeJob(body, discard())
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeJob(%q) error %v is not ErrMalformed", body, err)
			}
			return
		}
		switch j.Status {
		case StatusRunning, StatusFailed, StatusCompleted:
		default:
			t.Fatalf("decodeJob(%q).Status = %q", body, j.Status)
		}
		if (j.Result != nil) != (j.Status == StatusCompleted) {
			t.Fatalf("decodeJob(%q): Status %q with Result %v", body, j.Status, j.Result)
		}
		if r := j.Result; r != nil {
			if !isWebURL(r.SongURL) || (r.ImageURL != "" && !isWebURL(r.ImageURL)) {
				t.Fatalf("decodeJob(%q): bad URLs in %+v", body, r)
			}
			if r.Duration < 0 || r.BPM < 0 {
				t.Fatalf("decodeJob(%q): negative duration or BPM in %+v", body, r)
			}
			for _, tag := range r.Tags {
				if tag == "" || tag != strings.TrimSpace(tag) || strings.Contains(tag, ",") {
					t.Fatalf("decodeJob(%q): bad tag %q", body, tag)
				}
			}
		}
	})
}

func FuzzDecodeSubmission(f *testing.F) {
	for _, s := range []string{
		docSubmission, docRunning,
		``, `null`, `{}`, `[]`, `"x"`, `<html>Accepted</html>`,
		`{"job_id":"x"}`, `{"job_id":""}`, `{"job_id":"  "}`, `{"job_id":5}`, `{"job_id":null}`,
		`{"job_id":"x","poll_url":5,"message":["a"]}`, `{"job_id":"x","poll_url":"//evil.test/jobs/x"}`,
		`{"job_id":"\u0000","job_id":"y"}`, `{"job_id":"x"} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeSubmission(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || s != (Submission{}) {
				t.Fatalf("decodeSubmission(%q) = %+v, %v; want a zero Submission and ErrMalformed", body, s, err)
			}
			return
		}
		if strings.TrimSpace(s.JobID) == "" {
			t.Fatalf("decodeSubmission(%q) = %+v with a blank JobID and no error", body, s)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"2:47", "10:05", "0:7", "", "1:02:03", "2:60", "-1:00", "999999:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDuration(s)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseDuration(%q) = %v, %v", s, d, ok)
		}
	})
}

func BenchmarkDecodeJob(b *testing.B) {
	log := discard()
	for b.Loop() {
		if _, err := decodeJob([]byte(docCompleted), log); err != nil {
			b.Fatal(err)
		}
	}
}
