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
//
// A poll that learned nothing new posts its state instead of writing it
// (post): it does not wait for the flush. Its job stays leased to this
// process in the store until the flush lands, so no one polls it
// meanwhile, and if the flush fails the lease runs out and the job is
// polled again. Not waiting is what keeps the polls in flight (and their
// goroutines and Whisul connections) down to the requests themselves:
// with thousands of songs due every second, most polls were otherwise
// waiting on the flush before theirs.
type stateBatcher struct {
	queue JobQueue

	mu      sync.Mutex
	pending []*stateWrite // waiting for the next flush
	busy    bool          // a leader is flushing
	flushes sync.WaitGroup
}

type stateWrite struct {
	job storage.Job
	err error
	// done says true once the write is flushed, or false when this
	// caller is to lead the next flush; nil for a posted write, whose
	// outcome goes to then.
	done chan bool
	then func(error)
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
		s.flushes.Add(1)
		s.mu.Unlock()
	}
	s.lead(ctx, false)
	return w.err
}

// post queues job's state for the next flush and returns at once; then
// gets the outcome when the flush is done.
func (s *stateBatcher) post(ctx context.Context, job storage.Job, then func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, &stateWrite{job: job, then: then})
	if !s.busy {
		s.busy = true
		s.flushes.Add(1)
		go s.lead(context.WithoutCancel(ctx), true)
	}
}

// wait returns once no flush is under way, every write posted before it
// flushed.
func (s *stateBatcher) wait() { s.flushes.Wait() }

// lead flushes everything pending, then hands the lead to the first write
// that arrived meanwhile, so none waits for more than one flush after
// its own arrival. Posted writes have no caller to hand it to: a
// goroutine of their own leads them (own is true in it).
func (s *stateBatcher) lead(ctx context.Context, own bool) {
	for {
		s.mu.Lock()
		group := s.pending
		s.pending = nil
		s.mu.Unlock()
		s.flush(ctx, group)

		s.mu.Lock()
		switch {
		case len(s.pending) == 0:
			s.busy = false
			s.mu.Unlock()
			s.flushes.Done()
			return
		case s.pending[0].done != nil:
			s.pending[0].done <- false // its caller leads on; the lead stays counted
			s.mu.Unlock()
			return
		case !own:
			// Posted writes are next: a caller who waited for its own
			// write does not wait for theirs.
			s.mu.Unlock()
			go s.lead(context.WithoutCancel(ctx), true)
			return
		}
		s.mu.Unlock()
	}
}

// flush writes group in one RescheduleMany and hands each write its outcome.
func (s *stateBatcher) flush(ctx context.Context, group []*stateWrite) {
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
		if w.done != nil {
			w.done <- true
		} else if w.then != nil {
			w.then(w.err)
		}
	}
}
