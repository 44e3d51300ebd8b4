package bot

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul"
)

// TestSongThroughTheMemoryStore runs one /song from admission to delivery
// over storagetest.Memory, the in-memory store that passes the stores'
// contract suites, instead of function fakes: the handler admits and
// submits it, the poll loop claims it, reschedules it while Whisul says
// running, then delivers it once and removes it from the queue, keeping it
// in the history.
func TestSongThroughTheMemoryStore(t *testing.T) {
	t.Parallel()
	store := storagetest.NewMemory(nil)
	audio := newAudioServer(t, serveAudio("audio/mpeg", fakeMP3(4096)))
	var polls atomic.Int32
	w := fakeWhisul{
		GenerateFn: func(string) (whisul.Submission, error) {
			return whisul.Submission{JobID: "w1", PollURL: "/jobs/w1"}, nil
		},
		JobFn: func(string, string) (whisul.Job, error) {
			if polls.Add(1) == 1 {
				return whisul.Job{Status: whisul.StatusRunning, RawStatus: "processing"}, nil
			}
			return whisul.Job{Status: whisul.StatusCompleted, RawStatus: "completed", Result: &whisul.Result{
				Title: "Rainy Night", DurationText: "2:47", SongURL: audio.URL + "/rainy-night.mp3",
			}}, nil
		},
	}
	d := &fakeDiscord{}
	done := make(chan JobOutcome, 1)
	b := newTestBot(t, Options{
		PollInterval: 20 * time.Millisecond,
		Limits:       storage.Limits{MaxRunning: 1, UserMaxActive: 1},
		OnJobDone:    func(_ string, o JobOutcome) { done <- o },
	}, d, store, w)

	b.onEvent(nil, songEvent(time.Now(), "u1", "lo-fi beat", false))
	active, err := store.UserJobs(t.Context(), "u1")
	if err != nil || len(active) != 1 {
		t.Fatalf("UserJobs(u1) after /song = %v, %v; want the one song", active, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); b.pollLoop(ctx) }()
	t.Cleanup(func() { cancel(); <-loopDone })

	if o := <-done; o != JobCompleted {
		t.Fatalf("outcome = %q; want %q", o, JobCompleted)
	}
	if n := polls.Load(); n != 2 {
		t.Errorf("Whisul polled %d times; want 2 (running, then completed)", n)
	}
	var delivered []sentEdit
	for _, e := range d.Edits() {
		if e.embeds > 0 {
			delivered = append(delivered, e)
		}
	}
	if len(delivered) != 1 || delivered[0].files != 1 || delivered[0].token != "token-u1" {
		t.Errorf("song deliveries = %+v; want one edit of u1's reply with the song's embed and its audio", delivered)
	}
	if _, err := store.Get(t.Context(), active[0].ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(the delivered job) = %v; want ErrNotFound", err)
	}
	if songs, err := store.Songs(t.Context(), "u1", 10); err != nil || len(songs) != 1 || songs[0].Title != "Rainy Night" {
		t.Errorf("Songs(u1) = %+v, %v; want the delivered song", songs, err)
	}
}
