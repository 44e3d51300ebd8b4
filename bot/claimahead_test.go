package bot

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul"
)

// A job is polled at its due time, not at the loop's next tick after it:
// with an interval that is no multiple of the tick (1010ms against 25ms),
// every poll lands on its due time, and none comes before it.
func TestPollLoopPollsEachJobAtItsDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 1010 * time.Millisecond
		store := storagetest.NewMemory(nil)
		start := time.Now()
		job := pendingJob(start, "u1", false)
		job.NextPollAt = start
		if err := store.Save(t.Context(), job); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var polls []time.Duration
		w := fakeWhisul{JobFn: func(string, string) (whisul.Job, error) {
			mu.Lock()
			polls = append(polls, time.Since(start))
			mu.Unlock()
			return whisul.Job{Status: whisul.StatusRunning, RawStatus: "running"}, nil
		}}
		b := newTestBot(t, Options{PollInterval: interval}, &fakeDiscord{}, store, w)
		runLoop(t, b, 5*interval+interval/2)

		mu.Lock()
		defer mu.Unlock()
		if len(polls) != 6 {
			t.Fatalf("polls at %v; want 6, one every %v", polls, interval)
		}
		for k, at := range polls {
			if want := time.Duration(k) * interval; at < want || at > want+time.Millisecond {
				t.Errorf("poll %d at %v; want at its due time %v (a tick is every %v)", k, at, want, claimEvery(interval))
			}
		}
	})
}
