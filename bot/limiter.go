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
// is none: the limiter lets everything through until Whisul's 429s show
// a limit, not a fault: a share of the answers refused, or one past the
// rate Whisul last allowed. Then (AIMD, as TCP does) it pauses every
// request for the Retry-After time and cuts the rate to a fraction of
// what Whisul actually allowed, once per episode; while requests succeed
// it wins the rate back, quickly while far below the rate Whisul last
// allowed and slowly near and past it, so it settles just under Whisul's
// limit with few 429s. A sparse 429 (a fault, say) changes nothing: its
// request is retried later, and the rest go on at the same rate. An
// operator who knows the plan's limit sets WHISUL_MAX_RPS, which caps the
// rate from the start.
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
	// answered and refused count the requests served and refused over
	// shareSpan, long enough to tell a few percent of faults from a limit.
	answered, refused servedWindow
	servedTotal       int64 // requests served since the start
	servedAtCut       int64 // servedTotal when the last cut was made
}

// Limiter tuning. They are proportions and floors, not ceilings: no fixed
// rate caps what the bot carries unless WHISUL_MAX_RPS says so.
const (
	// cutFactor is the share of the rate Whisul allowed kept after a 429.
	// With Whisul allowing R a second the rate swings between 0.9R and R.
	cutFactor = 0.9
	// holdBelow is how long the rate takes from the cut to the ceiling,
	// before it probes past: so a Whisul limit costs an episode (a pause
	// and a 429 or a few) about once a minute and a bit, and the burst
	// Whisul saves up meanwhile is not spent in a rush past its limit
	// more often.
	holdBelow = time.Minute
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
	// ceilingMargin past the ceiling makes a 429 an episode: below it,
	// the rate is one Whisul allowed last time.
	ceilingMargin = 0.05
	// limitedShare of the answers of the last shareSpan refused, and at
	// least limitedMin, make a 429 an episode whatever the rate: a limit
	// that dropped, or the first one found. Faults that refuse a few
	// percent do not reach it, nor do their chance clusters at a few
	// requests a second.
	limitedShare = 0.08
	limitedMin   = 3
	shareSpan    = 10 * time.Second
	// boundSpan is how long after an episode the rate served since is
	// taken as a bound on Whisul's rate: past it, its burst has likely
	// filled and been wasted, and the bound is too low.
	boundSpan = 5 * time.Minute
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
	w := shareSpan / servedSlots
	return &adaptiveLimiter{
		now: now, lim: rate.NewLimiter(limit, 1), max: limit,
		answered: servedWindow{width: w}, refused: servedWindow{width: w},
	}
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
	l.answered.add(now)
	l.servedTotal++
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
	switch {
	case cur < l.ceiling*cutFactor:
		cur += max(recoverMin, recoverShare*(l.ceiling-cur)) * dt
	case cur < l.ceiling:
		cur += (1 - cutFactor) * l.ceiling / holdBelow.Seconds() * dt
	default:
		cur += max(recoverMin, probeShare*cur) * dt
	}
	l.lim.SetLimitAt(now, min(rate.Limit(cur), l.max))
}

// Throttle records a 429 to a request sent at sent. Unless an earlier 429
// of the same episode did it already, it starts an episode: every request
// waits retryAfter (defaultPause when Whisul sent none), and when the
// pause ends the rate is cut to cutFactor of the rate Whisul allowed.
//
// A sparse 429 starts none: one to a request sent below the rate Whisul
// last allowed, while few others are refused. Whisul refused nothing at
// that rate before, so it is a fault, not a limit (the request itself is
// retried after retryAfter by its caller), and reacting to each would
// ratchet the rate down to the floor under a steady trickle of them. A
// limit that really dropped refuses a share of the requests at once, and
// one that is reached by probing past the ceiling is an episode anyway.
func (l *adaptiveLimiter) Throttle(sent time.Time, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused.add(now)
	if sent.Before(l.cutAt) {
		l.extendPause(now, retryAfter)
		return // the same episode
	}
	// What Whisul served since the last pause ended (a pause is no
	// measure of what it allows) and, below, what it still serves of the
	// requests in flight; the cut is made when the pause ends.
	from := now.Add(-servedSpan)
	for _, t := range []time.Time{l.resumedAt, l.startedAt, l.pausedUntil} {
		if t.After(from) && !t.After(now) {
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
	span := now.Sub(from)
	above, many := l.limited(now, n, span)
	if !above && !many {
		return // sparse: see above
	}
	l.extendPause(now, retryAfter)
	c := &pendingCut{served: n, span: span, keepCeiling: !many}
	// Since the last episode Whisul served at most its rate times the
	// time (the pause included: its allowance accrued then too), since
	// it refused all beyond then and refuses again now. That bound is
	// exact unless Whisul's burst filled up meanwhile (then it is low),
	// and unlike the last seconds it holds no burst spent after a pause.
	// It counts from the end of the last pause: what was answered during
	// it was in flight when Whisul refused, so served before.
	if since := now.Sub(l.cutAt); !l.cutAt.IsZero() && since >= time.Second && since <= boundSpan {
		c.bound = float64(l.servedTotal-l.servedAtCut) / since.Seconds()
	}
	l.cut = c
	l.cutAt = now
}

// limited tells what a 429, with n served in span before it, shows of
// Whisul's limit: above, it came to a request sent faster than the
// ceiling, so the limit is between the ceiling and that rate; many, a
// share of the answers was refused, so the limit may be anywhere below.
// l.mu is held.
func (l *adaptiveLimiter) limited(now time.Time, n int, span time.Duration) (above, many bool) {
	served := float64(n) / max(span, servedSlot).Seconds()
	above = l.ceiling > 0 && span >= time.Second && served >= l.ceiling*(1+ceilingMargin)
	refused, _ := l.refused.count(now.Add(-shareSpan))
	ok, _ := l.answered.count(now.Add(-shareSpan))
	many = refused >= limitedMin && float64(refused) >= limitedShare*float64(refused+ok)
	return above, many
}

// extendPause makes every request wait retryAfter from now; l.mu is held.
func (l *adaptiveLimiter) extendPause(now time.Time, retryAfter time.Duration) {
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
}

// pendingCut is a cut decided by a 429 and made when its pause ends.
type pendingCut struct {
	served int           // requests served in span, and during the pause
	span   time.Duration // the time they were sent in
	bound  float64       // the rate served since the last episode; 0 if none
	// keepCeiling: the 429 came past the ceiling, which Whisul allowed,
	// so the limit is no lower than it.
	keepCeiling bool
}

// settle makes a pending cut once the pause is over; l.mu is held.
func (l *adaptiveLimiter) settle(now time.Time) {
	if l.cut == nil || now.Before(l.pausedUntil) {
		return
	}
	served := float64(l.cut.served) / max(l.cut.span, servedSlot).Seconds()
	if l.cut.bound > 0 {
		served = min(served, l.cut.bound)
	}
	cur := float64(l.lim.Limit())
	served = min(served, cur)
	if l.cut.keepCeiling {
		served = max(served, l.ceiling)
	}
	l.cut = nil
	l.servedAtCut = l.servedTotal
	l.ceiling = max(served, minRate)
	l.raisedAt = now
	l.lim.SetLimitAt(now, min(rate.Limit(max(min(l.ceiling*cutFactor, cur), minRate)), l.max))
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
// With a width, its slots are that long instead of servedSlot.
type servedWindow struct {
	slots [servedSlots]int
	head  int64 // index, in slot units since the zero time, of the newest slot
	width time.Duration
}

const (
	servedSlots = 20
	servedSlot  = 100 * time.Millisecond
	servedSpan  = servedSlots * servedSlot // two seconds
)

func (w *servedWindow) slot() int64 {
	if w.width > 0 {
		return int64(w.width)
	}
	return int64(servedSlot)
}

func (w *servedWindow) advance(now time.Time) {
	idx := now.UnixNano() / w.slot()
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
	fromSlot := from.UnixNano() / w.slot()
	for i := max(fromSlot, w.head-servedSlots+1); i <= w.head; i++ {
		if c := w.slots[i%servedSlots]; c > 0 {
			if n == 0 {
				first = time.Unix(0, i*w.slot())
			}
			n += c
		}
	}
	return n, first
}
