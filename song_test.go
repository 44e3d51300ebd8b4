package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestSongJSON(t *testing.T) {
	t.Parallel()
	f := newFakes(t, nil)
	f.whisul.SetDefault(whisultest.Script{Polls: 2})
	stdout, stderr, code := runCLI(t, f.env, "song", "--json", "lo-fi beat for a rainy night")
	if code != 0 {
		t.Fatalf("songbot song --json: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var job struct {
		JobID  string `json:"job_id"`
		Status string `json:"status"`
		Prompt string `json:"prompt"`
		Result struct {
			Title   string   `json:"title"`
			Tags    []string `json:"tags"`
			SongURL string   `json:"song_url"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(stdout), &job); err != nil {
		t.Fatalf("stdout is not the job as JSON: %v\n%s", err, stdout)
	}
	jobs := f.whisul.Jobs()
	if len(jobs) != 1 || job.JobID != jobs[0].ID || job.Status != "completed" || job.Prompt != "lo-fi beat for a rainy night" ||
		job.Result.Title == "" || len(job.Result.Tags) == 0 || job.Result.SongURL == "" {
		t.Errorf("--json printed %+v; want the completed job %v", job, jobs)
	}
	if !strings.Contains(stderr, "submitted job "+job.JobID) {
		t.Errorf("stderr shows no progress:\n%s", stderr)
	}
	assertNoSecrets(t, []string{testWhisulKey, f.discord.Token}, stdout, stderr)
}

func TestSongText(t *testing.T) {
	t.Parallel()
	f := newFakes(t, nil)
	f.whisul.SetDefault(whisultest.Script{Polls: 1})
	// Flags may follow the prompt, and an unquoted prompt is joined.
	stdout, stderr, code := runCLI(t, f.env, "song", "dark", "synthwave", "--interval", "20ms")
	if code != 0 {
		t.Fatalf("songbot song: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Title:", "Duration:  2:47", "BPM:       120", "Tags:", "Song URL:  http", "Cover URL: http"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if jobs := f.whisul.Jobs(); len(jobs) != 1 || jobs[0].Prompt != "dark synthwave" {
		t.Errorf("Whisul got jobs %v; want one with prompt %q", jobs, "dark synthwave")
	}
}

func TestSongFailedJobExits1(t *testing.T) {
	t.Parallel()
	f := newFakes(t, nil)
	f.whisul.SetDefault(whisultest.Script{Polls: 1, Fail: true, ErrorText: "the muse left"})
	stdout, stderr, code := runCLI(t, f.env, "song", "a song")
	if code != 1 || !strings.Contains(stderr, "songbot: the song failed at Whisul") || !strings.Contains(stderr, "the muse left") {
		t.Errorf("songbot song of a failing job = %d\nstdout:\n%s\nstderr:\n%s\nwant 1 with Whisul's reason", code, stdout, stderr)
	}
}

func TestSongStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	f := newFakes(t, nil)
	f.whisul.SetDefault(whisultest.Script{After: time.Hour})
	r := startInProcess(t, f.env, "song", "a long song")
	f.waitWhisul(t, "the first poll", func() bool { return f.whisul.Count("GET", "/api/jobs/") > 0 })
	r.cancel() // what main does on Ctrl-C
	if code := r.exitCode(t, 10*time.Second); code != 1 {
		t.Errorf("exit status after Ctrl-C = %d; want 1", code)
	}
	id := f.whisul.Jobs()[0].ID
	if out := r.out.String(); !strings.Contains(out, "stopped waiting; job "+id+" may still finish at Whisul") {
		t.Errorf("output after Ctrl-C:\n%s\nwant it to name job %s", out, id)
	}
}

func TestSongNeedsOnlyWhatItUses(t *testing.T) {
	t.Parallel()
	f := newFakes(t, nil)
	f.whisul.SetDefault(whisultest.Script{Polls: 1})
	// No Discord, and values the bot would refuse but song never reads.
	for _, name := range []string{"DISCORD_TOKEN", "DISCORD_API_URL"} {
		delete(f.env, name)
	}
	f.env["MAX_RUNNING"] = "-1"
	f.env["HTTP_ADDR"] = "not an address"
	stdout, stderr, code := runCLI(t, f.env, "song", "--interval", "10ms", "a song")
	if code != 0 || !strings.Contains(stdout, "Title:") {
		t.Errorf("songbot song without DISCORD_TOKEN = %d\nstdout:\n%s\nstderr:\n%s\nwant 0 and the song", code, stdout, stderr)
	}
	delete(f.env, "WHISUL_API_KEY")
	_, stderr, code = runCLI(t, f.env, "song", "a song")
	if code != 2 || !strings.Contains(stderr, "WHISUL_API_KEY is not set") || strings.Contains(stderr, "DISCORD_TOKEN") || strings.Contains(stderr, "MAX_RUNNING") {
		t.Errorf("songbot song without WHISUL_API_KEY = %d, stderr:\n%s\nwant 2 naming WHISUL_API_KEY alone", code, stderr)
	}
}

// waitWhisul waits until cond holds, re-checking at each Whisul request.
func (f *fakes) waitWhisul(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := f.whisul.Wait(ctx, cond); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args      []string
		wantWords []string
		wantJSON  bool
	}{
		{[]string{"--json", "a song"}, []string{"a song"}, true},
		{[]string{"a song", "--json"}, []string{"a song"}, true},
		{[]string{"dark", "--json", "synthwave"}, []string{"dark", "synthwave"}, true},
		{[]string{"--", "--json", "is a word here"}, []string{"--json", "is a word here"}, false},
		{[]string{"a", "--", "-b"}, []string{"a", "-b"}, false},
		{nil, nil, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("song", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "")
		words, err := parseInterleaved(fs, tt.args, "", io.Discard)
		if err != nil || !slices.Equal(words, tt.wantWords) || *asJSON != tt.wantJSON {
			t.Errorf("parseInterleaved(%q) = %q, json %v, %v; want %q, json %v", tt.args, words, *asJSON, err, tt.wantWords, tt.wantJSON)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tt := range []struct {
		name string
		w    io.Writer
	}{{"buffer", &strings.Builder{}}, {"pipe", w}} {
		if isTerminal(tt.w) {
			t.Errorf("isTerminal(%s) = true; want false", tt.name)
		}
	}
}
