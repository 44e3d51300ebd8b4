package bot

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// JobQueue holds the pending jobs the poll loop works on. storage.Redis and
// storage.Bolt implement it; a store shared by processes lets any of them
// poll any job, one at a time.
type JobQueue interface {
	// Claim returns up to limit jobs due at now, leased to token: hidden
	// from other claimers for lease.
	Claim(ctx context.Context, now time.Time, token string, lease time.Duration, limit int) ([]storage.Job, error)
	// Extend renews the leases token holds on ids and returns those it
	// no longer holds.
	Extend(ctx context.Context, now time.Time, token string, ids []string, lease time.Duration) (lost []string, err error)
	// RescheduleMany writes the jobs' states back, each due at its
	// NextPollAt, in one round trip (the poll loop's group commit), with
	// one error per job: storage.ErrNotFound for a job finished meanwhile.
	RescheduleMany(ctx context.Context, jobs []storage.Job) []error
	// Finish removes the job, reporting true only to the caller that did.
	Finish(ctx context.Context, id string) (bool, error)
}

// composer is the part of the Whisul client the bot calls: submit a song,
// then poll it.
type composer interface {
	Generate(ctx context.Context, prompt string) (whisul.Submission, error)
	Job(ctx context.Context, jobID, pollURL string) (whisul.Job, error)
}

// pollLoop claims due jobs from the store and polls each at Whisul until
// ctx ends. Every due job gets a goroutine of its own, up to
// PollConcurrency claimed at once; of those, as many are polled at once
// as Whisul's round trip needs (flightLimit), and the adaptive limiter,
// not a pool, paces them when Whisul asks for less. Then the loop claims
// only what the limiter lets go within sendHorizon: a job waits in the
// store, where any process sharing it may take it, not leased in a queue
// of this process's limiter, and a 429's pause holds back a few
// requests, not hundreds that stampede when it ends.
func (b *Bot) pollLoop(ctx context.Context) {
	sem := make(chan struct{}, b.opts.PollConcurrency)
	every := claimEvery(b.opts.PollInterval)
	tick := time.NewTicker(every)
	defer tick.Stop()
	storeDown := false
	var unsent atomic.Int64 // claimed jobs not yet past the limiter
	for {
		promoteErr := b.promote(ctx)
		free := cap(sem) - len(sem)
		limit := min(free, claimBatch, b.limiter.Room(sendHorizon)-int(unsent.Load()))
		var jobs []storage.Job
		var err error
		claimedAt := b.now()
		if limit > 0 {
			// What falls due before the next tick is claimed now and
			// polled at its due time (pollJob waits for it), so a tick
			// adds nothing to when a song is polled.
			jobs, err = b.queue.Claim(ctx, claimedAt.Add(every), b.token, b.lease(), limit)
		}
		err = errors.Join(promoteErr, err)
		switch {
		case ctx.Err() != nil:
			b.putBack(jobs...)
			return
		case err != nil && !storeDown:
			b.log.Error("cannot claim jobs; songs wait until the store answers again (check REDIS_URL or DATA_DIR)", "err", err)
		case err == nil && storeDown:
			b.log.Info("store reachable again; polling resumes")
		}
		storeDown = err != nil
		if limit > 0 {
			unsent.Add(int64(len(jobs)))
			for i, j := range jobs {
				sem <- struct{}{}
				if !b.begin() {
					unsent.Add(-int64(len(jobs) - i))
					b.putBack(jobs[i:]...) // claimed as shutdown began
					return
				}
				go func() {
					passed := sync.OnceFunc(func() { unsent.Add(-1) })
					defer func() { <-sem }()
					defer b.work.Done()
					defer passed()
					b.pollJob(b.workCtx, j, claimedAt.Add(b.lease()), passed)
				}()
			}
			if len(jobs) == limit {
				continue // more may be due right now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sendHorizon is how far ahead the poll loop claims while the limiter
// paces: the jobs it can send within this time. It must span a few of
// claimEvery's ticks (25ms at most), so the limiter always has a job
// ready for its next turn; short, so a claimed job waits for its turn a
// fraction of a second, not seconds while its lease keeps it from other
// processes. It caps nothing: the loop claims again every tick.
const sendHorizon = 250 * time.Millisecond

// claimBatch bounds one Claim, so one Lua script (or one bbolt
// transaction) never holds the store for long; it caps nothing else, since
// the loop claims again at once while whole batches come back.
const claimBatch = 500

// DefaultPollConcurrency is how many polls may be in flight at once when
// Options.PollConcurrency is 0. The number in flight is Whisul's request
// rate times its latency (Little's law): 20,000 songs polled every 5s are
// 4,000 requests a second, which at a 250ms round trip keeps 1,000 in
// flight. Each costs a goroutine and an idle connection of the Whisul
// transport (tens of KiB), so 1,000 stays within the memory a small
// container has. It is a bound, not a pool: flightLimit keeps as many in
// flight as the round trip needs (a few dozen on a fast network).
const DefaultPollConcurrency = 1000

// promote moves queued songs into free running slots; the loop then claims
// and submits them like any due job. It runs even when MAX_RUNNING is off,
// to start songs queued before a restart that switched it off.
func (b *Bot) promote(ctx context.Context) error {
	ids, err := b.gate.Promote(ctx, b.now(), b.opts.Limits)
	for _, id := range ids {
		b.log.Info("job leaves the queue", "job_id", id, "interaction_id", id)
	}
	return err
}

// claimEvery is how often the loop looks for jobs falling due before its
// next look, which it claims then and polls each at its due time: short,
// so a job waits in the store (where any process may take it) until a
// few tens of milliseconds before it is due (a claim that finds nothing
// is one cheap read of the store), a tenth of the interval when that is
// shorter, as in tests.
func claimEvery(poll time.Duration) time.Duration {
	return min(max(poll/10, 5*time.Millisecond), 25*time.Millisecond)
}

// lease is how long a claimed job stays hidden from other claimers without
// a heartbeat (see lease.go). Work that loses its lease is cancelled, so two
// processes never work on one job at once.
func (b *Bot) lease() time.Duration {
	if b.opts.Lease > 0 {
		return b.opts.Lease
	}
	return defaultLease
}

// workBudget bounds one poll's or one delivery's work, so a hung request
// cannot keep a lease renewed for ever: the old fixed lease, the larger of
// 30s and three poll intervals, less a margin.
func (b *Bot) workBudget() time.Duration {
	return max(3*b.opts.PollInterval, 30*time.Second) * 9 / 10
}

// poll checks one job at Whisul and either delivers it, when it ended, or
// puts it back in the store for the next poll.
func (b *Bot) poll(ctx context.Context, job storage.Job) {
	b.pollJob(ctx, job, b.now().Add(b.lease()), func() {})
}

// pollJob is poll for a job the loop claimed, leased until leasedUntil;
// it calls passed once the poll's turn at the limiter came (or it needs
// none), so the loop knows how many claimed jobs still wait for one. A
// submission waits in start and counts as waiting until it returns.
func (b *Bot) pollJob(ctx context.Context, job storage.Job, leasedUntil time.Time, passed func()) {
	ctx, release := b.leases.hold(ctx, job.ID, leasedUntil)
	defer release()
	// Claimed up to a tick ahead: never polled before it is due. Then it
	// waits for a slot of the flight limit.
	wait := job.ScheduledAt.Sub(b.now())
	if (wait > 0 && !sleep(ctx, wait)) || b.flight.acquire(ctx) != nil {
		passed()
		if context.Cause(ctx) != errLeaseLost {
			b.putBack(job)
		}
		return
	}
	defer b.flight.release()
	log := b.jobLog(job)
	now := b.now()
	due := dueBase(job, now)
	if job.WhisulID != "" && b.opts.JobTimeout > 0 && now.Sub(job.SubmittedAt) > b.opts.JobTimeout {
		log.Warn("job timed out", "waited", now.Sub(job.SubmittedAt).Round(time.Second))
		passed()
		b.deliver(ctx, job, timedOutDelivery())
		return
	}
	if job.WhisulID == "" {
		b.start(ctx, job) // a queued song's turn, or one its handler never submitted
		return
	}
	sent, err := b.limiter.Wait(ctx)
	passed()
	if err != nil {
		b.putBack(job)
		return
	}
	callCtx, cancel := context.WithTimeout(ctx, b.workBudget())
	asked := time.Now()
	wj, err := b.whisul.Job(callCtx, job.WhisulID, job.PollURL)
	b.flight.sample(time.Since(asked), time.Now())
	cancel()
	switch {
	case err == nil:
		b.limiter.Success()
	case ctx.Err() != nil:
		if context.Cause(ctx) != errLeaseLost {
			b.putBack(job)
		}
		return
	case errors.Is(err, whisul.ErrNotFound):
		log.Warn("whisul no longer knows the job", "err", err)
		b.deliver(ctx, job, notFoundDelivery())
		return
	default:
		log.Warn("poll failed; will retry", "err", err)
		b.retryLater(ctx, job, sent, err)
		return
	}

	switch wj.Status {
	case whisul.StatusCompleted:
		log.Info("job completed", "title", wj.Result.Title)
		b.deliver(ctx, job, songDelivery(job, wj.Result))
	case whisul.StatusFailed:
		log.Info("job failed at whisul", "error", wj.Error)
		b.deliver(ctx, job, failedDelivery(wj.Error))
	default:
		if wj.RawStatus != job.LastStatus {
			log.Info("job status changed", "status", wj.RawStatus, "previous", job.LastStatus)
		}
		job.LastStatus = wj.RawStatus
		job.LastError = ""
		job.NextPollAt = b.nextDue(due, b.now())
		b.reschedule(ctx, job)
	}
}

// minGapShare is the shortest time between two polls of one job, as a
// share of PollInterval: a poll that ran late is followed by one a little
// sooner, but never closer than this.
const minGapShare = 0.85

// nextDue is when a job due at due and polled at polled is due again: one
// interval after its previous due time, not after the poll, so every job
// is polled once per interval however long polls take and however many
// there are; but never sooner than minGapShare of an interval after the
// poll itself.
func (b *Bot) nextDue(due, polled time.Time) time.Time {
	interval := b.opts.PollInterval
	next := due.Add(interval)
	if floor := polled.Add(time.Duration(float64(interval) * minGapShare)); next.Before(floor) {
		next = floor
	}
	return next
}

// dueBase is when a claimed job was due: the time Claim found it due at
// (ScheduledAt), or now when the store did not say.
func dueBase(job storage.Job, now time.Time) time.Time {
	if job.ScheduledAt.IsZero() || job.ScheduledAt.After(now) {
		return now
	}
	return job.ScheduledAt
}

// backoff is the wait after a failed poll: twice the interval, jittered,
// capped at a minute.
func (b *Bot) backoff() time.Duration {
	d := min(2*b.opts.PollInterval, time.Minute)
	return d/2 + rand.N(d/2+1)
}

// retryLater reschedules job after a Whisul call, sent at sent, failed
// with err: due once Whisul's Retry-After or the backoff, whichever is
// longer, has passed, with the error kept. A 429 also slows the limiter.
func (b *Bot) retryLater(ctx context.Context, job storage.Job, sent time.Time, err error) {
	retryAfter, _ := whisul.RetryAfter(err)
	if errors.Is(err, whisul.ErrRateLimited) {
		b.limiter.Throttle(sent, retryAfter)
	}
	job.LastError = err.Error()
	job.NextPollAt = b.now().Add(max(retryAfter, b.backoff()))
	b.reschedule(ctx, job)
}

// saveState writes what a step of the job changed (its Whisul id, times,
// status, error) back to the store, due at job.NextPollAt, through the
// group commit: the one way the bot reschedules a job.
func (b *Bot) saveState(ctx context.Context, job storage.Job) error {
	return b.states.write(ctx, job)
}

// reschedule is saveState for a job whose next poll is all that is left
// to do, so it does not wait for the write (see stateBatcher.post): a
// failure is only logged, since the lease makes the job due again.
func (b *Bot) reschedule(ctx context.Context, job storage.Job) {
	b.states.post(ctx, job, func(err error) {
		switch {
		case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrLeaseLost):
			// Another process finished it, or holds it now.
		case err != nil:
			b.log.Error("could not reschedule a job; it is polled again when its lease ends", "job_id", job.ID, "err", err)
		}
	})
}

// putBack returns claimed jobs whose poll was cut short. At shutdown they
// are due at once, so the next process picks them up without waiting out
// the lease; otherwise (the lease ran out, say while the rate limiter
// waited) they are due after a backoff.
func (b *Bot) putBack(jobs ...storage.Job) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, job := range jobs {
		job.NextPollAt = b.now()
		if b.workCtx.Err() == nil && !b.stopping() {
			job.NextPollAt = job.NextPollAt.Add(b.backoff())
		}
		b.reschedule(ctx, job)
	}
}
