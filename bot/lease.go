package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// defaultLease is how long a job this process works on stays hidden from
// other processes without a heartbeat: how long a job held by a process
// that crashed waits for another (or for the restarted one). The heartbeat
// renews it every third of it while the work lasts, so it bounds the
// recovery time, not the work. Options.Lease changes it, for tests; an
// operator has no reason to, so it is not a setting.
const defaultLease = 10 * time.Second

// errLeaseLost is the cause of a job's context when another process took
// its lease, or the store could not renew it in time.
var errLeaseLost = errors.New("the job's lease was lost")

// newToken is this process's lease token: random, so a restarted process
// does not take its previous run's leases for its own.
func newToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// leases are the jobs this process works on, whose leases the heartbeat
// renews. Work on a job runs under the context hold returns, which ends
// when the lease is lost, before the work can edit anything more.
type leases struct {
	mu   sync.Mutex
	held map[string]*heldLease
}

type heldLease struct {
	id     string
	cancel context.CancelCauseFunc
	until  time.Time // when the lease runs out unless renewed
}

// hold registers work on job id, leased until until, and returns its
// context and the function that ends the hold.
func (l *leases) hold(ctx context.Context, id string, until time.Time) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	h := &heldLease{id: id, cancel: cancel, until: until}
	l.mu.Lock()
	if l.held == nil {
		l.held = map[string]*heldLease{}
	}
	l.held[id] = h
	l.mu.Unlock()
	return ctx, func() {
		l.mu.Lock()
		if l.held[id] == h {
			delete(l.held, id)
		}
		l.mu.Unlock()
		cancel(nil)
	}
}

// left is how long this process's lease on job id lasts as it knows it
// (from the claim or admission that took it, or the heartbeat's last
// renewal); 0 when it holds none.
func (l *leases) left(id string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held[id]
	if h == nil {
		return 0
	}
	return max(h.until.Sub(now), 0)
}

func (l *leases) snapshot() []*heldLease {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*heldLease, 0, len(l.held))
	for _, h := range l.held {
		out = append(out, h)
	}
	return out
}

// heartbeat renews the leases of the jobs this process holds every third
// of a lease, all in one store call, until ctx ends. A job whose lease
// another process took is cancelled at once; when the store cannot be
// reached, a job is cancelled while a third of its lease is left, so its
// work stops before another process may take it.
func (b *Bot) heartbeat(ctx context.Context) {
	every := b.lease() / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		held := b.leases.snapshot()
		if len(held) == 0 {
			continue
		}
		ids := make([]string, len(held))
		for i, h := range held {
			ids[i] = h.id
		}
		now := b.now()
		ectx, cancel := context.WithTimeout(ctx, every)
		lost, err := b.queue.Extend(ectx, now, b.token, ids, b.lease())
		cancel()
		if err != nil {
			if !failing {
				b.log.Error("cannot renew the leases of the songs in progress; they stop before their leases end (is the store reachable?)", "jobs", len(held), "err", err)
			}
			failing = true
			for _, h := range held {
				if h.until.Sub(b.now()) <= every {
					h.cancel(errLeaseLost)
				}
			}
			continue
		}
		failing = false
		gone := make(map[string]bool, len(lost))
		for _, id := range lost {
			gone[id] = true
		}
		for _, h := range held {
			if gone[h.id] {
				b.log.Warn("another process took the job's lease; stopping work on it", "job_id", h.id)
				h.cancel(errLeaseLost)
				continue
			}
			b.leases.mu.Lock()
			h.until = now.Add(b.lease())
			b.leases.mu.Unlock()
		}
	}
}
