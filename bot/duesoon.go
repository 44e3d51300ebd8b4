package bot

import (
	"context"
	"sync"
	"time"
)

// dueSoon is the earliest time a job this process rescheduled is due
// again. The poll loop wakes then, not only on its next tick: the songs
// polled together in one turn come due together one interval later, and
// a tick up to claimEvery late would add that to every one of their
// delivery lags.
type dueSoon struct {
	mu sync.Mutex
	at time.Time // zero: nothing noted
}

// note records that a job is due at t.
func (d *dueSoon) note(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.at.IsZero() || t.Before(d.at) {
		d.at = t
	}
}

// next returns the earliest time noted and forgets it if it is not
// after claimed, the time of the claim that took what was due by then.
func (d *dueSoon) next(claimed time.Time) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.at.IsZero() && !d.at.After(claimed) {
		d.at = time.Time{}
	}
	return d.at, !d.at.IsZero()
}

// waitTurn waits for the poll loop's next tick, or until the earliest
// job this process rescheduled since the claim at claimedAt is due,
// whichever comes first. It returns false when ctx ends.
func (b *Bot) waitTurn(ctx context.Context, tick <-chan time.Time, claimedAt time.Time) bool {
	var wake <-chan time.Time
	if at, ok := b.soonest.next(claimedAt); ok {
		t := time.NewTimer(max(at.Sub(b.now()), 0))
		defer t.Stop()
		wake = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-tick:
	case <-wake:
	}
	return true
}
