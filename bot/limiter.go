package bot

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// adaptiveLimiter paces every Whisul request of the process, submissions
// and polls alike. Whisul documents no request limit, so by default there
// is none: the limiter lets everything through until Whisul answers 429.
// Then (AIMD, as TCP does) it pauses every request for the Retry-After
// time and cuts the rate to a fraction of what Whisul actually served over
// the last seconds, once per episode; while requests succeed it wins the
// rate back, quickly while far below the rate Whisul last allowed and
// slowly near and past it, so it settles just under Whisul's limit with
// few 429s. An operator who knows the plan's limit sets WHISUL_MAX_RPS,
// which caps the rate from the start.
type adaptiveLimiter struct {
	now func() time.Time
	lim *rate.Limiter // rate.Inf until the first 429, unless capped

	mu  sync.Mutex
	max rate.Limit // WHISUL_MAX_RPS; rate.Inf when 0
	// ceiling is the rate Whisul served when it last said 429: the rate
	// recovers quickly below it and probes slowly past it. 0 before any.
	ceiling float64
	// cutAt is when the rate was last cut. A 429 to a request sent before
	// belongs to the episode that cut it, so many requests in flight that
	// all get 429 cut the rate once.
	cutAt       time.Time
	pausedUntil time.Time
	resumedAt   time.Time // the end of the pause before pausedUntil's
	raisedAt    time.Time // the last recovery step
	cut         *pendingCut
	startedAt   time.Time // the first Wait
	served      servedWindow
}

// Limiter tuning. They are proportions and floors, not ceilings: no fixed
// rate caps what the bot carries unless WHISUL_MAX_RPS says so.
const (
	// cutFactor is the share of the served rate kept after a 429. With
	// Whisul allowing R a second the rate swings between 0.8R and R.
	cutFactor = 0.8
	// minRate is the floor the rate is never cut below: one request a
	// second, so the bot keeps probing however hard Whisul pushes back.
	minRate = 1.0
	// recoverShare of the gap to the ceiling is won back each second
	// below it; recoverMin a second at least. Near the ceiling that is
	// 0.5/s, so the last few requests a second take several seconds.
	recoverShare = 0.1
	recoverMin   = 0.5
	// probeShare of the rate is added each second past the ceiling:
	// slowly, since Whisul allowed no more last time, but exponentially,
	// so a raised limit is found within minutes.
	probeShare = 0.02
	// defaultPause is the pause after a 429 without Retry-After.
	defaultPause = time.Second
)

// newAdaptiveLimiter returns a limiter capped at maxRPS requests a second;
// 0 means no cap.
func newAdaptiveLimiter(maxRPS float64, now func() time.Time) *adaptiveLimiter {
	limit := rate.Inf
	if maxRPS > 0 {
		limit = rate.Limit(maxRPS)
	}
	// A burst of one: the rate is a pace, so a quiet second is not saved
	// up for a burst Whisul would refuse.
	return &adaptiveLimiter{now: now, lim: rate.NewLimiter(limit, 1), max: limit}
}

// Wait blocks until a request may be sent, or ctx ends, and returns the
// moment it let the request go: what Throttle needs to tell episodes
// apart.
func (l *adaptiveLimiter) Wait(ctx context.Context) (time.Time, error) {
	for {
		l.mu.Lock()
		now := l.now()
		if l.startedAt.IsZero() {
			l.startedAt = now
		}
		l.settle(now)
		pause := l.pausedUntil.Sub(now)
		l.mu.Unlock()
		if pause > 0 {
			if !sleep(ctx, pause) {
				return time.Time{}, ctx.Err()
			}
			continue // settle the cut, then take a turn at the new rate
		}
		if err := l.lim.Wait(ctx); err != nil {
			return time.Time{}, err
		}
		l.mu.Lock()
		now, paused := l.now(), l.pausedUntil
		l.mu.Unlock()
		// A 429 while this waited for its turn paused everyone: its turn
		// was given at the old rate, so it waits out the pause and takes
		// a new one.
		if !now.Before(paused) {
			return now, nil
		}
	}
}

// Success records a request Whisul served and wins back some rate.
func (l *adaptiveLimiter) Success() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.served.add(now)
	if l.cut != nil {
		if now.Before(l.pausedUntil) {
			l.cut.served++ // a request in flight when the 429 came
			return
		}
		l.settle(now)
	}
	cur := float64(l.lim.Limit())
	if l.lim.Limit() == rate.Inf || l.ceiling == 0 {
		l.raisedAt = now
		return
	}
	dt := min(now.Sub(l.raisedAt).Seconds(), 1) // an idle hour is not a jump
	if dt <= 0 {
		return
	}
	l.raisedAt = now
	if cur < l.ceiling {
		cur += max(recoverMin, recoverShare*(l.ceiling-cur)) * dt
	} else {
		cur += max(recoverMin, probeShare*cur) * dt
	}
	l.lim.SetLimitAt(now, min(rate.Limit(cur), l.max))
}

// Throttle records a 429 to a request sent at sent: every request waits
// retryAfter (defaultPause when Whisul sent none), and, unless an earlier
// 429 of the same episode did it already, the rate is cut to cutFactor of
// the rate Whisul served.
func (l *adaptiveLimiter) Throttle(sent time.Time, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if retryAfter <= 0 {
		retryAfter = defaultPause
	}
	if until := now.Add(retryAfter); until.After(l.pausedUntil) {
		if l.pausedUntil.Before(now) {
			l.resumedAt = l.pausedUntil
		}
		l.pausedUntil = until
	}
	l.raisedAt = l.pausedUntil // no recovery while paused
	if sent.Before(l.cutAt) {
		return // the same episode
	}
	// What Whisul served since the last pause ended (a pause is no
	// measure of what it allows) and, below, what it still serves of the
	// requests in flight; the cut is made when the pause ends.
	from := now.Add(-servedSpan)
	for _, t := range []time.Time{l.resumedAt, l.startedAt} {
		if t.After(from) {
			from = t
		}
	}
	// The span starts at the first request served in it, not before: after
	// a quiet spell (jobs backing off, or none due) the idle time is no
	// measure of what Whisul allows, and counting it would cut the rate far
	// below Whisul's limit.
	n, first := l.served.count(from)
	if first.After(from) {
		from = first
	}
	l.cut = &pendingCut{served: n, span: now.Sub(from)}
	l.cutAt = now
}

// pendingCut is a cut decided by a 429 and made when its pause ends.
type pendingCut struct {
	served int           // requests served in span, and during the pause
	span   time.Duration // the time they were sent in
}

// settle makes a pending cut once the pause is over; l.mu is held.
func (l *adaptiveLimiter) settle(now time.Time) {
	if l.cut == nil || now.Before(l.pausedUntil) {
		return
	}
	served := float64(l.cut.served) / max(l.cut.span, servedSlot).Seconds()
	if l.cut.span < time.Second && l.ceiling > 0 {
		// Too short a time to measure: a 429 soon after the last pause
		// says the last ceiling was too high.
		served = l.ceiling
	}
	l.cut = nil
	if cur := float64(l.lim.Limit()); served > cur {
		served = cur
	}
	l.ceiling = max(served, minRate)
	l.raisedAt = now
	l.lim.SetLimitAt(now, min(rate.Limit(max(served*cutFactor, minRate)), l.max))
}

// Room is how many requests the limiter lets go within horizon from now,
// for the poll loop to claim no more than that: the rate times what is
// left of horizon after a pause, at least one while any is left, and
// math.MaxInt while there is no rate.
func (l *adaptiveLimiter) Room(horizon time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.settle(now)
	r := l.lim.Limit()
	if r == rate.Inf {
		return math.MaxInt
	}
	left := horizon - max(l.pausedUntil.Sub(now), 0)
	if left <= 0 {
		return 0
	}
	return int(math.Ceil(float64(r) * left.Seconds()))
}

// Limit is the current rate, +Inf when unlimited, for tests and logs.
func (l *adaptiveLimiter) Limit() float64 {
	if r := l.lim.Limit(); r != rate.Inf {
		return float64(r)
	}
	return math.Inf(1)
}

// servedWindow counts served requests over the last servedSpan, in
// slots, so the rate Whisul actually allowed is known when it says 429.
type servedWindow struct {
	slots [servedSlots]int
	head  int64 // index, in slot units since the zero time, of the newest slot
}

const (
	servedSlots = 20
	servedSlot  = 100 * time.Millisecond
	servedSpan  = servedSlots * servedSlot // two seconds
)

func (w *servedWindow) advance(now time.Time) {
	idx := now.UnixNano() / int64(servedSlot)
	if idx-w.head >= servedSlots {
		w.slots = [servedSlots]int{}
	} else {
		for i := w.head + 1; i <= idx; i++ {
			w.slots[i%servedSlots] = 0
		}
	}
	if idx > w.head {
		w.head = idx
	}
}

func (w *servedWindow) add(now time.Time) {
	w.advance(now)
	w.slots[w.head%servedSlots]++
}

// count is the requests served from from until the newest slot, counting
// slots wholly after from's slot start, and the start of the first slot
// that holds any (the zero time when none does).
func (w *servedWindow) count(from time.Time) (n int, first time.Time) {
	fromSlot := from.UnixNano() / int64(servedSlot)
	for i := max(fromSlot, w.head-servedSlots+1); i <= w.head; i++ {
		if c := w.slots[i%servedSlots]; c > 0 {
			if n == 0 {
				first = time.Unix(0, i*int64(servedSlot))
			}
			n += c
		}
	}
	return n, first
}
