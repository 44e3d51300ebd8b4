package bot

import (
	"context"
	"math"
	"sync"
	"time"
)

// flightLimit is how many jobs this process polls (and delivers) at once.
// The number needed is Whisul's request rate times its round trip
// (Little's law): a handful on a fast network, a thousand for 20,000
// songs polled every 5s over a 250ms round trip. Every poll in flight
// costs a goroutine, a Whisul connection and, when it delivers, a Discord
// connection and buffers, so holding more than the work needs costs
// memory and, on a busy machine, CPU, and adds nothing.
//
// So the limit follows Whisul's round trip, as TCP Vegas follows a
// path's: it starts at minFlight and doubles each round (one round trip
// of every slot) while the slots are in use and the round trip holds;
// once the round trip grows past latencyTolerance times the least one
// of the last baseWindow or so (base), requests are queueing (at Whisul,
// or for this machine's CPU), and the limit shrinks back to where the
// round trip was base (by half at most); then it grows by its square
// root a round. base forgets round trips older than two windows, so a
// Whisul that got slower for good is followed, not fought.
//
// Only Whisul's round trip is measured, not the delivery that may follow
// a poll (it holds its slot all the same): a song that takes a second to
// deliver is no sign of queueing, and songs finishing together must not
// shrink the limit.
type flightLimit struct {
	mu       sync.Mutex
	max      int     // Options.PollConcurrency
	limit    float64 // between min(minFlight, max) and max
	inFlight int
	waiters  []chan struct{} // FIFO, so jobs go in the order claimed
	growing  bool            // doubling, until the first cut

	// The least round trip of this window and of the one before; base
	// is the smaller. 0: no round yet.
	thisMin, lastMin time.Duration
	windowEnds       time.Time

	// The round under way.
	samples int
	sum     time.Duration
	peak    int // most in flight during the round
}

// minFlight is where the limit starts and the least it shrinks to: enough
// that a few slow requests never stall the others, and that the first
// rounds (doubling from here) reach a thousand in flight within five
// rounds. It bounds nothing from above. (At 8, in one run of
// BenchmarkLoadPending5000 on a 2-core machine, 99% of the songs were
// delivered within 4.2s, against 2.5 and 3.1s in two runs at 32: too few
// deliveries in flight to keep both cores busy while each waits on
// Redis, Discord and the audio.)
const minFlight = 32

// minRound is the fewest round trips a round averages: with fewer, a
// round of lucky fast answers (a cache hit at Whisul, an idle moment on
// a busy machine) would set base far below the usual round trip, and
// every ordinary round after it would look like queueing.
const minRound = 32

// latencyTolerance is how many times the least round trip a round may
// take before the limit shrinks: a round trip twice the unloaded one
// means requests spend as long queueing as being served.
const latencyTolerance = 2

// baseWindow is how long the least round trip is remembered (one to two
// windows), as TCP BBR remembers its minimum round trip for 10s: long
// enough to span many rounds at any poll rate, so the queueing the
// limit's own growth causes always shows against it; short enough that a
// Whisul slower for good is the new normal within 20s.
const baseWindow = 10 * time.Second

func newFlightLimit(max int) *flightLimit {
	return &flightLimit{max: max, limit: float64(min(minFlight, max)), growing: true}
}

// acquire takes a slot, waiting in line for one; it fails only when ctx
// ends first.
func (f *flightLimit) acquire(ctx context.Context) error {
	f.mu.Lock()
	if len(f.waiters) == 0 && f.inFlight < f.allowed() {
		f.take()
		f.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	f.waiters = append(f.waiters, ch)
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, w := range f.waiters {
			if w == ch {
				f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// Granted meanwhile: hand the slot on.
		f.inFlight--
		f.grant()
		return ctx.Err()
	}
}

// release frees a slot taken by acquire.
func (f *flightLimit) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	f.grant()
}

// sample records one Whisul round trip d, ended at now; a round ends
// once every slot of the limit has given one (and at least minRound
// have), and moves the limit.
func (f *flightLimit) sample(d time.Duration, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples++
	f.sum += d
	if f.samples < max(f.allowed(), minRound) {
		return
	}
	mean := f.sum / time.Duration(f.samples)
	inUse := 2*f.peak >= f.allowed()
	f.samples, f.sum, f.peak = 0, 0, f.inFlight
	mean = max(mean, 1)
	if now.After(f.windowEnds) {
		f.lastMin, f.thisMin = f.thisMin, 0
		if now.After(f.windowEnds.Add(baseWindow)) {
			f.lastMin = 0 // idle for a whole window: nothing recent to remember
		}
		f.windowEnds = now.Add(baseWindow)
	}
	if f.thisMin == 0 || mean < f.thisMin {
		f.thisMin = mean
	}
	base := f.thisMin
	if f.lastMin != 0 {
		base = min(base, f.lastMin)
	}
	if ratio := float64(mean) / float64(base); ratio > latencyTolerance {
		// Back to where the round trip was base, or by half: a round
		// at the uncongested level measures base again, so base never
		// drifts up with the queueing it is there to detect.
		f.limit *= max(0.5, 1/ratio)
		f.growing = false
	} else if inUse {
		if f.growing {
			f.limit *= 2
		} else {
			f.limit += math.Sqrt(f.limit)
		}
	}
	f.limit = min(max(f.limit, float64(min(minFlight, f.max))), float64(f.max))
	f.grant()
}

// PollsInFlight reports the polls (and the deliveries after them) this
// process runs now, and how many it may run at once: the flight limit,
// which follows Whisul's round trip up to PollConcurrency.
func (b *Bot) PollsInFlight() (inFlight, limit int) { return b.flight.counts() }

// counts returns the slots taken and the limit now.
func (f *flightLimit) counts() (inFlight, limit int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlight, f.allowed()
}

// current is the limit now.
func (f *flightLimit) current() int {
	_, limit := f.counts()
	return limit
}

// allowed is the limit as a number of slots. The caller holds f.mu.
func (f *flightLimit) allowed() int { return int(f.limit) }

// take counts a slot as taken. The caller holds f.mu.
func (f *flightLimit) take() {
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
}

// grant hands free slots to the waiters in line. The caller holds f.mu.
func (f *flightLimit) grant() {
	for len(f.waiters) > 0 && f.inFlight < f.allowed() {
		close(f.waiters[0])
		f.waiters = f.waiters[1:]
		f.take()
	}
}
