package bot

import (
	"context"
	"sync"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// stateBatcher writes the states of many polled jobs to the store in one
// RescheduleMany round trip: a group commit. A write that finds no flush
// under way flushes at once, alone, so a lone poll waits for nothing;
// writes that arrive during a flush wait for it and go together in the
// next one. So the jobs polled in one tick share one or two round trips
// instead of one each, and each caller still learns its own outcome.
type stateBatcher struct {
	queue JobQueue

	mu      sync.Mutex
	pending []*stateWrite // waiting for the next flush
	busy    bool          // a leader is flushing
}

type stateWrite struct {
	job storage.Job
	err error
	// done says true once the write is flushed, or false when this
	// caller is to lead the next flush.
	done chan bool
}

// flushTimeout bounds one flush. The flush outlives the context of the
// poll that leads it (another poll's cancellation must not fail everyone's
// write), so it needs a bound of its own: a store slower than this is
// down, and the jobs are polled again once their lease ends.
const flushTimeout = 5 * time.Second

// write stores job's state, due at its NextPollAt, and returns its
// outcome: storage.ErrNotFound when the job was finished meanwhile.
func (s *stateBatcher) write(ctx context.Context, job storage.Job) error {
	w := &stateWrite{job: job, done: make(chan bool, 1)}
	s.mu.Lock()
	s.pending = append(s.pending, w)
	if s.busy {
		s.mu.Unlock()
		if flushed := <-w.done; flushed {
			return w.err
		}
	} else {
		s.busy = true
		s.mu.Unlock()
	}
	s.lead(ctx)
	return w.err
}

// lead flushes everything pending, then hands the lead to the first write
// that arrived meanwhile, so none waits for more than one flush after
// its own arrival.
func (s *stateBatcher) lead(ctx context.Context) {
	s.mu.Lock()
	group := s.pending
	s.pending = nil
	s.mu.Unlock()

	jobs := make([]storage.Job, len(group))
	for i, w := range group {
		jobs[i] = w.job
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	errs := s.queue.RescheduleMany(fctx, jobs)
	cancel()
	for i, w := range group {
		if i < len(errs) {
			w.err = errs[i]
		}
		w.done <- true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		s.busy = false
		return
	}
	s.pending[0].done <- false
}
