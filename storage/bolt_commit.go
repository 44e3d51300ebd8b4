package storage

import (
	"sync"

	"go.etcd.io/bbolt"
)

// groupCommit runs the writes of concurrent callers in one bbolt
// transaction, so a burst costs one fsync, not one each, and returns to
// each caller only once its write is on disk.
//
// It is bbolt's DB.Batch without the wait: Batch holds every call for up
// to MaxBatchDelay (10ms) for company, which a lone write (one user's
// /song, one worker's reschedule) pays in full. Here a caller that finds
// no transaction under way commits at once, alone; callers that arrive
// while one is being made queue, and the next transaction takes them all.
// So writes group exactly when they would otherwise wait on each other.
//
// Like Batch, it may run a write's fn more than once: when a transaction
// fails, the write whose fn failed runs again alone, and the others again
// together. Each run is a transaction of its own, rolled back unless it
// commits, so fn must set every result it reports afresh on each run,
// and report outcomes (ErrNotFound) through those results, not by
// returning them.
type groupCommit struct {
	db *bbolt.DB

	mu    sync.Mutex
	queue []*groupWrite // waiting for the next transaction
	busy  bool          // a leader is making transactions
}

type groupWrite struct {
	fn  func(*bbolt.Tx) error
	err error
	// wake says true when the write is committed (or failed for good), or
	// false when this caller is to lead the next transaction.
	wake chan bool
}

// do runs fn in a write transaction, with whatever other writes are
// waiting, and returns once it is committed.
func (g *groupCommit) do(fn func(*bbolt.Tx) error) error {
	w := &groupWrite{fn: fn, wake: make(chan bool, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.busy {
		g.mu.Unlock()
		if committed := <-w.wake; committed {
			return w.err
		}
	} else {
		g.busy = true
		g.mu.Unlock()
	}
	g.lead()
	return w.err
}

// lead commits everything queued, the leader's own write among it, then
// hands the lead to the first write that queued meanwhile, so no caller
// waits on more than one transaction after its own.
func (g *groupCommit) lead() {
	g.mu.Lock()
	group := g.queue
	g.queue = nil
	g.mu.Unlock()
	g.commit(group)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.busy = false
		return
	}
	g.queue[0].wake <- false
}

// commit runs group in one transaction and wakes each write with its
// outcome. If the transaction fails, the write that failed it runs alone
// and the rest again; if no write did (the commit itself failed), each
// runs alone.
func (g *groupCommit) commit(group []*groupWrite) {
	if len(group) == 0 {
		return
	}
	failed := -1
	err := g.db.Update(func(tx *bbolt.Tx) error {
		for i, w := range group {
			if err := w.fn(tx); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		for _, w := range group {
			w.err = nil
			w.wake <- true
		}
	case len(group) == 1:
		group[0].err = err
		group[0].wake <- true
	case failed >= 0:
		g.commit(group[failed : failed+1])
		g.commit(append(group[:failed:failed], group[failed+1:]...))
	default:
		for _, w := range group {
			g.commit([]*groupWrite{w})
		}
	}
}
