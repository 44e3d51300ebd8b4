package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
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
	stdout, stderr, code := runSongbot(t, f.env, "song", "--json", "lo-fi beat for a rainy night")
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
	stdout, stderr, code := runSongbot(t, f.env, "song", "dark", "synthwave", "--interval", "20ms")
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
	stdout, stderr, code := runSongbot(t, f.env, "song", "a song")
	if code != 1 || !strings.Contains(stderr, "songbot: the song failed at Whisul") || !strings.Contains(stderr, "the muse left") {
		t.Errorf("songbot song of a failing job = %d\nstdout:\n%s\nstderr:\n%s\nwant 1 with Whisul's reason", code, stdout, stderr)
	}
}

func TestSongStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	f := newFakes(t, nil)
	f.whisul.SetDefault(whisultest.Script{After: time.Hour})
	p := startSong(t, f.env, "a long song")
	f.waitWhisul(t, "the first poll", func() bool { return f.whisul.Count("GET", "/api/jobs/") > 0 })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.exitCode(t, 10*time.Second); code != 1 {
		t.Errorf("exit status after Ctrl-C = %d; want 1", code)
	}
	id := f.whisul.Jobs()[0].ID
	if out := p.stderr.String(); !strings.Contains(out, "stopped waiting; job "+id+" may still finish at Whisul") {
		t.Errorf("output after Ctrl-C:\n%s\nwant it to name job %s", out, id)
	}
}

// startSong runs `songbot song args...` in the background.
func startSong(t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"song"}, args...)...)
	cmd.Env = []string{"SONGBOT_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start songbot song: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
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
