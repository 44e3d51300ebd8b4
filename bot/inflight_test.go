package bot

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/songbot-dev/songbot/whisul"
)

// flightRound fills every slot the limit allows, gives one round trip
// per slot (at least minRound), rtt(in flight) each, then frees them,
// the clock moving by the round's mean. It returns the clock.
func flightRound(t *testing.T, f *flightLimit, now time.Time, rtt func(inFlight int) time.Duration) time.Time {
	t.Helper()
	n := f.current()
	for range n {
		if err := f.acquire(t.Context()); err != nil {
			t.Fatalf("acquire below the limit = %v", err)
		}
	}
	var d time.Duration
	for range max(n, minRound) {
		d = rtt(n)
		f.sample(d, now)
	}
	for range n {
		f.release()
	}
	return now.Add(d)
}

// waitQueued yields until n acquires wait in f's line.
func waitQueued(t *testing.T, f *flightLimit, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		got := len(f.waiters)
		f.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acquires waiting after 5s; want %d", got, n)
		}
		runtime.Gosched()
	}
}

func constantRTT(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

func TestFlightLimitGrowsToTheMaxWhileTheRoundTripHolds(t *testing.T) {
	// 20,000 songs every 5s over a 250ms round trip need 1,000 in flight.
	f := newFlightLimit(DefaultPollConcurrency)
	if got := f.current(); got != minFlight {
		t.Fatalf("limit before any round = %d; want minFlight %d", got, minFlight)
	}
	now := time.Unix(0, 0)
	rounds := 0
	for f.current() < DefaultPollConcurrency && rounds < 100 {
		now = flightRound(t, f, now, constantRTT(250*time.Millisecond))
		rounds++
	}
	if got := f.current(); got != DefaultPollConcurrency {
		t.Fatalf("limit after %d rounds at a steady 250ms = %d; want %d", rounds, got, DefaultPollConcurrency)
	}
	// Doubling from 32: 64, 128, ..., 1,024 (capped) in 5 rounds.
	if rounds > 5 {
		t.Errorf("reached %d after %d rounds (%v at 250ms); want 5 at most", DefaultPollConcurrency, rounds, time.Duration(rounds)*250*time.Millisecond)
	}
	for range 10 {
		now = flightRound(t, f, now, constantRTT(250*time.Millisecond))
	}
	if got := f.current(); got != DefaultPollConcurrency {
		t.Errorf("limit went past or below the max: %d; want %d", got, DefaultPollConcurrency)
	}
}

func TestFlightLimitStaysLowWhenRequestsOnlyQueue(t *testing.T) {
	// A machine that serves one request per millisecond, however many
	// are in flight: each more in flight waits longer, and none is
	// served sooner.
	f := newFlightLimit(DefaultPollConcurrency)
	now := time.Unix(0, 0)
	peak := 0
	for range 500 {
		now = flightRound(t, f, now, func(n int) time.Duration { return time.Duration(n) * time.Millisecond })
		peak = max(peak, f.current())
	}
	if peak > 4*minFlight {
		t.Errorf("limit reached %d when more in flight only queued; want at most %d", peak, 4*minFlight)
	}
	if got := f.current(); got < minFlight {
		t.Errorf("limit = %d; want at least minFlight %d", got, minFlight)
	}
}

func TestFlightLimitShrinksWhenTheRoundTripGrowsAndFollowsASlowerWhisul(t *testing.T) {
	f := newFlightLimit(DefaultPollConcurrency)
	now := time.Unix(0, 0)
	for range 10 {
		now = flightRound(t, f, now, constantRTT(50*time.Millisecond))
	}
	if got := f.current(); got != DefaultPollConcurrency {
		t.Fatalf("limit at a steady 50ms = %d; want %d", got, DefaultPollConcurrency)
	}
	// Whisul is four times slower from now on.
	now = flightRound(t, f, now, constantRTT(200*time.Millisecond))
	if got := f.current(); got > DefaultPollConcurrency/2 {
		t.Errorf("limit after a round at 4× the round trip = %d; want at most %d", got, DefaultPollConcurrency/2)
	}
	// Within two windows the slower round trip is the new normal, and the
	// limit grows back.
	end := now.Add(2*baseWindow + time.Second)
	for now.Before(end) {
		now = flightRound(t, f, now, constantRTT(200*time.Millisecond))
	}
	rounds := 0
	for f.current() < DefaultPollConcurrency && rounds < 100 {
		now = flightRound(t, f, now, constantRTT(200*time.Millisecond))
		rounds++
	}
	// Growing by its square root a round, from minFlight: 2(√1000-√32)
	// is about 52 rounds.
	if got := f.current(); got != DefaultPollConcurrency || rounds > 60 {
		t.Errorf("limit %d rounds after Whisul slowed for good for two windows = %d; want %d within 60 rounds", rounds, got, DefaultPollConcurrency)
	}
}

func TestFlightLimitDoesNotGrowWhileItsSlotsAreIdle(t *testing.T) {
	// One poll at a time: the limit is not what holds the work back.
	f := newFlightLimit(DefaultPollConcurrency)
	now := time.Unix(0, 0)
	for range 1000 {
		if err := f.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		f.sample(time.Millisecond, now)
		f.release()
		now = now.Add(time.Millisecond)
	}
	if got := f.current(); got != minFlight {
		t.Errorf("limit after 1,000 lone polls = %d; want minFlight %d", got, minFlight)
	}
}

func TestFlightLimitNeverExceedsASmallMax(t *testing.T) {
	f := newFlightLimit(3)
	now := time.Unix(0, 0)
	for range 20 {
		now = flightRound(t, f, now, constantRTT(time.Millisecond))
		if got := f.current(); got != 3 {
			t.Fatalf("limit with POLL_CONCURRENCY 3 = %d; want 3", got)
		}
	}
}

func TestFlightLimitQueuesInOrderAndHandsOnCancelledSlots(t *testing.T) {
	f := newFlightLimit(1)
	if err := f.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	order := make(chan int, 3)
	for i := range 3 {
		ctx := t.Context()
		if i == 1 {
			ctx = cancelled
		}
		go func() {
			if err := f.acquire(ctx); err != nil {
				order <- -i
				return
			}
			order <- i
		}()
		waitQueued(t, f, i+1) // so the next one queues behind it
	}
	cancel()
	if got := <-order; got != -1 {
		t.Fatalf("first to return = %d; want -1 (the cancelled waiter)", got)
	}
	f.release()
	if got := <-order; got != 0 {
		t.Fatalf("first granted = waiter %d; want 0, the first in line", got)
	}
	f.release()
	if got := <-order; got != 2 {
		t.Fatalf("next granted = waiter %d; want 2", got)
	}
	f.release()
	if f.inFlight != 0 || len(f.waiters) != 0 {
		t.Errorf("after every release: %d in flight, %d waiting; want 0, 0", f.inFlight, len(f.waiters))
	}
}

func TestFlightLimitAcquireFailsWhenItsContextEnds(t *testing.T) {
	f := newFlightLimit(1)
	if err := f.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := f.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire on a full limit with a cancelled context = %v; want context.Canceled", err)
	}
}

// With Whisul answering in 250ms and more jobs due than that allows, the
// poll loop reaches DefaultPollConcurrency polls in flight within a few
// round trips (20,000 songs every 5s need 1,000), and keeps it there.
func TestPollLoopReachesTheMaxInFlightOverASlowWhisul(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &loopStore{}
		store, _ := s.fakes()
		var mu sync.Mutex
		inFlight, most, polls := 0, 0, 0
		var reached time.Time
		start := time.Now()
		w := fakeWhisul{JobFn: func(string, string) (whisul.Job, error) {
			mu.Lock()
			inFlight++
			polls++
			if inFlight > most {
				most = inFlight
				if most == DefaultPollConcurrency {
					reached = time.Now()
				}
			}
			mu.Unlock()
			time.Sleep(250 * time.Millisecond) // Whisul's round trip
			mu.Lock()
			inFlight--
			mu.Unlock()
			return whisul.Job{Status: whisul.StatusRunning, RawStatus: "running"}, nil
		}}
		b := newTestBot(t, Options{PollInterval: 5 * time.Second}, &fakeDiscord{}, store, w)
		runLoop(t, b, 10*time.Second)

		if most != DefaultPollConcurrency {
			t.Fatalf("most polls in flight = %d; want DefaultPollConcurrency, %d", most, DefaultPollConcurrency)
		}
		if took := reached.Sub(start); took > 2*time.Second {
			t.Errorf("reached %d in flight after %v; want within 2s (doubling each 250ms round trip from %d)", most, took, minFlight)
		}
		// 1,000 every 250ms for the 8s after the first 2s, at least.
		if min := 8 * 4 * DefaultPollConcurrency; polls < min {
			t.Errorf("%d polls in 10s; want at least %d", polls, min)
		}
	})
}
