package bot

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiterPausesOnThrottleAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(8, time.Now)
		l.Throttle(3 * time.Second)
		if got := l.Limit(); got != 4 {
			t.Fatalf("Limit() after one 429 = %v; want 4", got)
		}
		start := time.Now()
		if err := l.Wait(context.Background()); err != nil {
			t.Fatalf("Wait() = %v", err)
		}
		if waited := time.Since(start); waited < 3*time.Second {
			t.Errorf("Wait() returned after %v; want at least the 3s Retry-After", waited)
		}
		for range 100 {
			l.Success()
		}
		if got := l.Limit(); got != 8 {
			t.Errorf("Limit() after many successes = %v; want back to 8", got)
		}
	})
}

func TestLimiterNeverDropsBelowFloor(t *testing.T) {
	t.Parallel()
	l := newAdaptiveLimiter(1, time.Now)
	for range 20 {
		l.Throttle(0)
	}
	if got := l.Limit(); got != float64(minRate) {
		t.Errorf("Limit() after many 429s = %v; want the floor %v", got, float64(minRate))
	}
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptiveLimiter(1, time.Now)
		l.Throttle(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := l.Wait(ctx); err != context.DeadlineExceeded {
			t.Errorf("Wait() during a long pause = %v; want %v", err, context.DeadlineExceeded)
		}
	})
}
