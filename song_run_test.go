package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/whisul"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

const songKey = "wk-song-test-secret"

// newSongFake returns a fake Whisul whose jobs follow sc, and a client of it
// that does not retry.
func newSongFake(t *testing.T, sc whisultest.Script) (*whisultest.Server, *whisul.Client) {
	t.Helper()
	fake := whisultest.NewServer(t, songKey)
	fake.SetDefault(sc)
	c, err := whisul.New(whisul.Options{BaseURL: fake.URL, APIKey: songKey, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func TestRunSongPrintsTheSong(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "terminal"}[terminal], func(t *testing.T) {
			t.Parallel()
			fake, c := newSongFake(t, whisultest.Script{Polls: 2})
			var out, progress bytes.Buffer
			err := makeSong(t.Context(), c, "lo-fi beat for a rainy night", songOptions{
				Interval: 10 * time.Millisecond, Out: &out, Err: &progress, Terminal: terminal,
			})
			if err != nil {
				t.Fatalf("makeSong() = %v; progress:\n%s", err, progress.String())
			}
			id := fake.Jobs()[0].ID
			for _, want := range []string{
				"Title:     Fake Song 1\n", "Duration:  2:47\n", "BPM:       120\n", "Tags:      fake, test, whisul\n",
				"Song URL:  " + strings.TrimSuffix(fake.URL, "/api") + "/cdn/audio/" + id + ".mp3\n",
				"Cover URL: " + strings.TrimSuffix(fake.URL, "/api") + "/cdn/covers/" + id + ".jpg\n",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if !strings.Contains(progress.String(), "submitted job "+id) {
				t.Errorf("progress does not name the job:\n%q", progress.String())
			}
			if gotCR := strings.Contains(progress.String(), "\r"); gotCR != terminal {
				t.Errorf("progress redraws with \\r: %v; want %v (terminal %v):\n%q", gotCR, terminal, terminal, progress.String())
			}
			assertNoSecret(t, songKey, out.String(), progress.String())
		})
	}
}

func TestRunSongJSON(t *testing.T) {
	t.Parallel()
	fake, c := newSongFake(t, whisultest.Script{Polls: 1})
	var out bytes.Buffer
	err := makeSong(t.Context(), c, "synthwave", songOptions{JSON: true, Interval: 10 * time.Millisecond, Out: &out})
	if err != nil {
		t.Fatalf("RunSong(--json) = %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	id := fake.Jobs()[0].ID
	root := strings.TrimSuffix(fake.URL, "/api")
	// finished_at and started_at are times of the fake's clock.
	delete(got, "started_at")
	delete(got, "finished_at")
	want := map[string]any{
		"job_id": id,
		"status": "completed",
		"prompt": "synthwave",
		"error":  nil,
		"result": map[string]any{
			"title":            "Fake Song 1",
			"duration":         "2:47",
			"duration_seconds": 167.0,
			"bpm":              120.0,
			"tags":             []any{"fake", "test", "whisul"},
			"song_url":         root + "/cdn/audio/" + id + ".mp3",
			"image_url":        root + "/cdn/covers/" + id + ".jpg",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json output mismatch (-want +got):\n%s", diff)
	}
}

func TestRunSongFailedJob(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{false, true} {
		_, c := newSongFake(t, whisultest.Script{Polls: 1, Fail: true, ErrorText: "the muse left"})
		var out bytes.Buffer
		err := makeSong(t.Context(), c, "a song", songOptions{JSON: asJSON, Interval: 10 * time.Millisecond, Out: &out})
		if err == nil || !strings.Contains(err.Error(), "the muse left") {
			t.Errorf("RunSong(json %v) of a failed job = %v; want an error with Whisul's reason", asJSON, err)
		}
		if asJSON && (!strings.Contains(out.String(), `"status": "failed"`) || !strings.Contains(out.String(), `"error": "the muse left"`)) {
			t.Errorf("--json output of a failed job:\n%s\nwant its status and error", out.String())
		}
		if !asJSON && out.Len() != 0 {
			t.Errorf("a failed job printed %q to stdout; want nothing", out.String())
		}
	}
}

func TestRunSongStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	fake, c := newSongFake(t, whisultest.Script{After: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var progress bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- makeSong(ctx, c, "a long song", songOptions{Interval: 10 * time.Millisecond, Err: &progress})
	}()
	// Cancel once the job is being polled, as an operator's Ctrl-C would.
	if err := fake.Wait(t.Context(), func() bool { return fake.Count("GET", "/api/jobs/") > 0 }); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		var stopped *stoppedError
		if !errors.As(err, &stopped) || !errors.Is(err, context.Canceled) {
			t.Fatalf("makeSong() after cancel = %v; want a *stoppedError wrapping context.Canceled", err)
		}
		id := fake.Jobs()[0].ID
		if want := "stopped waiting; job " + id + " may still finish at Whisul"; err.Error() != want {
			t.Errorf("error = %q; want %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("makeSong did not return after its context was cancelled")
	}
}

func TestRunSongGivesUpAfterTimeout(t *testing.T) {
	t.Parallel()
	_, c := newSongFake(t, whisultest.Script{After: time.Hour})
	err := makeSong(t.Context(), c, "a long song", songOptions{Interval: 10 * time.Millisecond, Timeout: 100 * time.Millisecond})
	var stopped *stoppedError
	if !errors.As(err, &stopped) || stopped.After != 100*time.Millisecond || !strings.Contains(err.Error(), "gave up after 100ms") {
		t.Errorf("makeSong() past its timeout = %v; want a *stoppedError after 100ms", err)
	}
}

func TestRunSongRetriesTransientPollErrors(t *testing.T) {
	t.Parallel()
	_, c := newSongFake(t, whisultest.Script{ServerErrors: 2})
	var out, progress bytes.Buffer
	err := makeSong(t.Context(), c, "a song", songOptions{Interval: 10 * time.Millisecond, Out: &out, Err: &progress})
	if err != nil {
		t.Fatalf("makeSong() = %v; want the song after two 500s", err)
	}
	if n := strings.Count(progress.String(), "poll failed, retrying"); n != 2 {
		t.Errorf("progress shows %d retried polls; want 2:\n%s", n, progress.String())
	}
}

func TestRunSongErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script whisultest.Script
		key    string
		want   string
	}{
		{"wrong key", whisultest.Script{}, "wk-wrong-secret", "whisul rejected the key: set WHISUL_API_KEY"},
		{"job gone", whisultest.Script{NotFound: true}, songKey, "whisul no longer knows job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := whisultest.NewServer(t, songKey)
			fake.SetDefault(tt.script)
			c, err := whisul.New(whisul.Options{BaseURL: fake.URL, APIKey: tt.key, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			var progress bytes.Buffer
			err = makeSong(t.Context(), c, "a song", songOptions{Interval: 10 * time.Millisecond, Err: &progress})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("makeSong() = %v; want an error with %q", err, tt.want)
			}
			assertNoSecret(t, tt.key, errString(err), progress.String())
		})
	}
}

func assertNoSecret(t *testing.T, secret string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, secret) {
			t.Errorf("output shows a secret (%.6s…):\n%s", secret, o)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
