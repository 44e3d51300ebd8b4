package bot

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// adaptiveLimiter caps Whisul requests per second across all workers. A 429
// pauses every worker for the Retry-After time and halves the rate; each
// success wins back a little of it.
type adaptiveLimiter struct {
	mu          sync.Mutex
	lim         *rate.Limiter
	max         rate.Limit
	pausedUntil time.Time
	now         func() time.Time
}

// minRate is the floor the rate never halves below: one request every 4s.
const minRate = rate.Limit(0.25)

func newAdaptiveLimiter(perSecond float64, now func() time.Time) *adaptiveLimiter {
	r := rate.Limit(perSecond)
	return &adaptiveLimiter{lim: rate.NewLimiter(r, max(1, int(perSecond))), max: r, now: now}
}

// Wait blocks until a request may be sent, or ctx ends.
func (l *adaptiveLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	pause := l.pausedUntil.Sub(l.now())
	l.mu.Unlock()
	if pause > 0 {
		t := time.NewTimer(pause)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return l.lim.Wait(ctx)
}

// Throttle records a 429: pause for retryAfter (at least a second) and
// halve the rate.
func (l *adaptiveLimiter) Throttle(retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	until := l.now().Add(max(retryAfter, time.Second))
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	l.lim.SetLimit(max(l.lim.Limit()/2, minRate))
}

// Success wins back a twentieth of the configured rate.
func (l *adaptiveLimiter) Success() {
	l.mu.Lock() // so a concurrent Throttle's halving is not overwritten
	defer l.mu.Unlock()
	if cur := l.lim.Limit(); cur < l.max {
		l.lim.SetLimit(min(l.max, cur+l.max/20))
	}
}

// Limit is the current rate, for tests and logs.
func (l *adaptiveLimiter) Limit() float64 { return float64(l.lim.Limit()) }
