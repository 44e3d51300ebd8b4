package bot

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiterUnlimitedByDefault(t *testing.T) {
	t.Parallel()
	l := newAdaptiveLimiter(0, time.Now)
	if got := l.Limit(); !math.IsInf(got, 1) {
		t.Errorf("Limit() of newAdaptiveLimiter(0) = %v; want +Inf (no cap)", got)
	}
	if got := newAdaptiveLimiter(30, time.Now).Limit(); got != 30 {
		t.Errorf("Limit() of newAdaptiveLimiter(30) = %v; want the cap, 30", got)
	}
}

// refuse records n 429s, retryAfter each, to requests in flight together:
// what a limit does, where a fault refuses one.
func refuse(l *adaptiveLimiter, n int, retryAfter time.Duration) {
	sent := time.Now().Add(-10 * time.Millisecond)
	for range n {
		l.Throttle(sent, retryAfter)
	}
}

func TestLimiterPausesOnThrottleAndCutsFromServedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(0, time.Now)
		for range 100 { // 100 served in two seconds: 50/s
			l.Success()
			time.Sleep(20 * time.Millisecond)
		}
		refuse(l, 10, 3*time.Second)
		start := time.Now()
		if _, err := l.Wait(t.Context()); err != nil {
			t.Fatalf("Wait() = %v", err)
		}
		if waited := time.Since(start); waited < 3*time.Second {
			t.Errorf("Wait() returned after %v; want at least the 3s Retry-After", waited)
		}
		if got, want := l.Limit(), 50*cutFactor; math.Abs(got-want) > 3 {
			t.Errorf("Limit() after a 429 at 50/s served = %v; want about %v", got, want)
		}
	})
}

// A 429 after a quiet spell measures Whisul's rate from the first request
// served since, not over the idle time before it.
func TestLimiterCutsFromTheRateServedSinceAQuietSpell(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(0, time.Now)
		l.Success()
		time.Sleep(5 * time.Second) // nothing due: jobs backing off
		for range 50 {              // then 50 served in one second
			l.Success()
			time.Sleep(20 * time.Millisecond)
		}
		refuse(l, 10, time.Second)
		if _, err := l.Wait(t.Context()); err != nil {
			t.Fatalf("Wait() = %v", err)
		}
		if got, want := l.Limit(), 50*cutFactor; math.Abs(got-want) > 3 {
			t.Errorf("Limit() after a 429 at 50/s served after a quiet spell = %v; want about %v", got, want)
		}
	})
}

func TestLimiterCutsOncePerEpisode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(0, time.Now)
		for range 100 {
			l.Success()
			time.Sleep(20 * time.Millisecond)
		}
		sent := time.Now().Add(-10 * time.Millisecond) // all in flight together
		for range 20 {
			l.Throttle(sent, time.Second)
		}
		if _, err := l.Wait(t.Context()); err != nil {
			t.Fatalf("Wait() = %v", err)
		}
		if got, want := l.Limit(), 50*cutFactor; math.Abs(got-want) > 3 {
			t.Errorf("Limit() after 20 429s of one episode = %v; want one cut, about %v", got, want)
		}
	})
}

func TestLimiterNeverDropsBelowFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(0, time.Now)
		for range 20 {
			refuse(l, limitedMin, time.Second)
			if _, err := l.Wait(t.Context()); err != nil {
				t.Fatalf("Wait() = %v", err)
			}
		}
		if got := l.Limit(); got != minRate {
			t.Errorf("Limit() after many 429s and no success = %v; want the floor %v", got, minRate)
		}
	})
}

func TestLimiterNeverPassesTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(10, time.Now)
		for range 1000 {
			l.Success()
			time.Sleep(10 * time.Millisecond)
		}
		if got := l.Limit(); got != 10 {
			t.Errorf("Limit() capped at 10 after many successes = %v; want 10", got)
		}
	})
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(0, time.Now)
		refuse(l, limitedMin, time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := l.Wait(ctx); err != context.DeadlineExceeded {
			t.Errorf("Wait() during a long pause = %v; want %v", err, context.DeadlineExceeded)
		}
	})
}

// simulation is what a simulated Whisul answered, per simulated second.
type simulation struct {
	mu      sync.Mutex
	ok, tmr map[int]int // served, 429
}

// simulate feeds l as pollLoop does, claiming what l.Room allows (and
// claimBatch at most) from demand jobs falling due a second, for d,
// against a Whisul that takes latency to answer allowed() or 429 with
// Retry-After: 1.
func simulate(t *testing.T, l *adaptiveLimiter, demand float64, d, latency time.Duration, allowed func() bool) *simulation {
	sim := &simulation{ok: map[int]int{}, tmr: map[int]int{}}
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	const every = 25 * time.Millisecond // claimEvery at POLL_INTERVAL 5s
	tick := time.NewTicker(every)
	defer tick.Stop()
	var unsent atomic.Int64
	var wg sync.WaitGroup
	due := 0.0
	for ctx.Err() == nil {
		due += demand * every.Seconds()
		n := min(int(due), claimBatch, l.Room(sendHorizon)-int(unsent.Load()))
		for range max(n, 0) {
			due--
			unsent.Add(1)
			wg.Go(func() {
				sent, err := l.Wait(ctx)
				unsent.Add(-1)
				if err != nil {
					return
				}
				time.Sleep(latency / 2)
				ok := allowed()
				time.Sleep(latency / 2)
				sec := int(time.Since(start) / time.Second)
				sim.mu.Lock()
				if ok {
					sim.ok[sec]++
				} else {
					sim.tmr[sec]++
				}
				sim.mu.Unlock()
				if ok {
					l.Success()
				} else {
					l.Throttle(sent, time.Second)
				}
			})
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	wg.Wait()
	return sim
}

// series is sim's served and refused counts of seconds [0, n).
func (sim *simulation) series(n int) (ok, tmr []int) {
	for s := range n {
		ok, tmr = append(ok, sim.ok[s]), append(tmr, sim.tmr[s])
	}
	return ok, tmr
}

// TestLimiterSettlesUnderAWhisulLimit polls 200 jobs due a second (1,000
// songs at POLL_INTERVAL 5s), as the poll loop does, against a simulated Whisul allowing 50 requests a
// second (bursts of one second's worth, as whisultest.SetRateLimit) for
// five simulated minutes, at a few round-trip times: the rate must settle
// at 40-50/s within 30s, with fewer than 5 429s a minute after.
func TestLimiterSettlesUnderAWhisulLimit(t *testing.T) {
	for _, latency := range []time.Duration{5 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond} {
		t.Run(fmt.Sprint("latency ", latency), func(t *testing.T) {
			t.Parallel()
			testLimiterSettles(t, latency)
		})
	}
}

func testLimiterSettles(t *testing.T, latency time.Duration) {
	synctest.Test(t, func(t *testing.T) {
		const (
			allowed  = 50
			duration = 5 * time.Minute
			settle   = 30 * time.Second
		)
		srv := rate.NewLimiter(allowed, allowed)
		var mu sync.Mutex
		sim := simulate(t, newAdaptiveLimiter(0, time.Now), 200, duration, latency, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return srv.Allow()
		})

		from, to := int(settle/time.Second), int(duration/time.Second)-1
		var served, limited int
		for s := from; s < to; s++ {
			served += sim.ok[s]
			limited += sim.tmr[s]
		}
		secs := float64(to - from)
		perSecond, perMinute := float64(served)/secs, float64(limited)/secs*60
		t.Logf("after %v: %.1f requests/s served, %.1f 429s a minute (Whisul allows %d/s)", settle, perSecond, perMinute, allowed)
		if perSecond < 40 || perSecond > allowed {
			t.Errorf("settled at %.1f requests/s; want 40-%d", perSecond, allowed)
		}
		if perMinute >= 5 {
			t.Errorf("%.1f 429s a minute once settled; want fewer than 5", perMinute)
		}
		// Every 30s window after the settling time stays in the band too.
		for w := from; w+30 <= to; w += 30 {
			n := 0
			for s := w; s < w+30; s++ {
				n += sim.ok[s]
			}
			// Whisul's burst (a second's worth) may fall in one window.
			if r, most := float64(n)/30, float64(allowed)*31/30; r < 40 || r > most {
				t.Errorf("seconds %d-%d: %.1f requests/s; want 40-%.1f", w, w+30, r, most)
			}
		}
		if t.Failed() {
			ok, tmr := sim.series(to)
			t.Logf("served a second: %v\n429s a second: %v", ok, tmr)
		}
	})
}

// TestLimiterKeepsItsRateUnderSparse429s: a Whisul that refuses 2% of
// requests at random (a fault, as the chaos test injects) and allows any
// rate gets every request due, 20 a second: no pause, no cut.
func TestLimiterKeepsItsRateUnderSparse429s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const demand = 20
		rnd := rand.New(rand.NewPCG(1, 2))
		var mu sync.Mutex
		l := newAdaptiveLimiter(0, time.Now)
		sim := simulate(t, l, demand, 2*time.Minute, 5*time.Millisecond, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return rnd.Float64() >= 0.02
		})
		ok, tmr := sim.series(119)
		refused := 0
		for s := range ok {
			refused += tmr[s]
			if got := ok[s] + tmr[s]; got < demand-2 {
				t.Errorf("second %d: %d requests sent; want the %d due", s, got, demand)
			}
		}
		if refused == 0 {
			t.Fatal("no 429 in two minutes; the simulation is broken")
		}
		if got := l.Limit(); !math.IsInf(got, 1) {
			t.Errorf("Limit() after %d sparse 429s = %v; want +Inf, as before them", refused, got)
		}
		if t.Failed() {
			t.Logf("served a second: %v\n429s a second: %v", ok, tmr)
		}
	})
}
