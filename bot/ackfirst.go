package bot

import (
	"context"
	"sync"
	"time"
)

// The work after a song's acknowledgement (its Whisul submission, its
// "queued" edit) waits until the interactions around it are answered. In a
// burst it would otherwise compete with them for the CPU and the store and
// push them toward Discord's 3 s; a song takes minutes, so a fraction of a
// second later is nothing to it.
//
// ackQuiet is how long no new interaction must have arrived: the
// interactions of a burst come one after another off the gateway, a few
// hundred microseconds apart, so the moment none is waiting is not yet the
// end of the burst. ackHoldMax bounds the wait, so that a steady stream of
// commands cannot hold that work off for good. Both delay work and cap
// nothing.
const (
	ackQuiet   = 50 * time.Millisecond
	ackHoldMax = 250 * time.Millisecond
)

// ackFirst counts the interactions being admitted and not yet answered, so
// that the work that can wait lets them go first.
type ackFirst struct {
	mu      sync.Mutex
	pending int
	last    time.Time     // when the latest interaction began
	idle    chan struct{} // closed and replaced when pending drops to 0
}

// begin counts one interaction as unanswered until the returned function
// is called; calling it again does nothing.
func (a *ackFirst) begin() (answered func()) {
	a.mu.Lock()
	a.pending++
	a.last = time.Now()
	a.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			// Only the last answer wakes the waiters: one wake each per
			// burst, not one per interaction answered.
			a.pending--
			if a.pending == 0 && a.idle != nil {
				close(a.idle)
				a.idle = nil
			}
		})
	}
}

// wait returns once no interaction is waiting for its answer and none has
// arrived for ackQuiet, after limit at the latest, or when ctx ends.
func (a *ackFirst) wait(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		a.mu.Lock()
		quietFor := time.Since(a.last)
		if a.pending == 0 && quietFor >= ackQuiet {
			a.mu.Unlock()
			return
		}
		wake := time.Until(deadline)
		if a.pending == 0 {
			wake = min(wake, ackQuiet-quietFor)
		}
		if a.idle == nil {
			a.idle = make(chan struct{})
		}
		idle := a.idle
		a.mu.Unlock()
		if wake <= 0 {
			return
		}
		t := time.NewTimer(wake)
		select {
		case <-idle:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}
