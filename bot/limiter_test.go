package bot

import (
	"context"
	"fmt"
	"math"
	"sync"
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

func TestLimiterPausesOnThrottleAndCutsFromServedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(0, time.Now)
		for range 100 { // 100 served in two seconds: 50/s
			l.Success()
			time.Sleep(20 * time.Millisecond)
		}
		l.Throttle(time.Now(), 3*time.Second)
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
		l.Throttle(time.Now(), time.Second)
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
			l.Throttle(time.Now(), time.Second)
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
		l.Throttle(time.Now(), time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := l.Wait(ctx); err != context.DeadlineExceeded {
			t.Errorf("Wait() during a long pause = %v; want %v", err, context.DeadlineExceeded)
		}
	})
}

// limitedServer is a simulated Whisul that allows perSecond requests a
// second (bursts of one second's worth, as whisultest.SetRateLimit) and
// answers the rest 429 with Retry-After: 1.
type limitedServer struct {
	lim *rate.Limiter

	mu      sync.Mutex
	ok, tmr map[int]int // per simulated second: served, 429
}

// TestLimiterSettlesUnderAWhisulLimit runs 300 senders against a simulated
// Whisul allowing 50 requests a second for five simulated minutes, at a few
// round-trip times: the rate must settle at 40-50/s within 30s, with fewer
// than 5 429s a minute after.
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
			senders  = 300
			duration = 5 * time.Minute
			settle   = 30 * time.Second
		)
		srv := &limitedServer{lim: rate.NewLimiter(allowed, allowed), ok: map[int]int{}, tmr: map[int]int{}}
		l := newAdaptiveLimiter(0, time.Now)
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), duration)
		defer cancel()
		var wg sync.WaitGroup
		for range senders {
			wg.Go(func() {
				for {
					sent, err := l.Wait(ctx)
					if err != nil {
						return
					}
					time.Sleep(latency / 2)
					allowedNow := srv.lim.Allow()
					time.Sleep(latency / 2)
					sec := int(time.Since(start) / time.Second)
					srv.mu.Lock()
					if allowedNow {
						srv.ok[sec]++
					} else {
						srv.tmr[sec]++
					}
					srv.mu.Unlock()
					if allowedNow {
						l.Success()
					} else {
						l.Throttle(sent, time.Second)
					}
				}
			})
		}
		wg.Wait()

		from, to := int(settle/time.Second), int(duration/time.Second)-1
		var served, limited int
		for s := from; s < to; s++ {
			served += srv.ok[s]
			limited += srv.tmr[s]
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
				n += srv.ok[s]
			}
			// Whisul's burst (a second's worth) may fall in one window.
			if r, most := float64(n)/30, float64(allowed)*31/30; r < 40 || r > most {
				t.Errorf("seconds %d-%d: %.1f requests/s; want 40-%.1f", w, w+30, r, most)
			}
		}
	})
}
