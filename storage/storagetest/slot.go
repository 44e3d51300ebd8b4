package storagetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// slotTTL is the suite's reservation: short, since the suite waits for it
// to end on the real clock, and whole milliseconds, as Redis keeps it.
const slotTTL = 300 * time.Millisecond

// slotSlack allows for Redis's clock, which counts whole milliseconds.
const slotSlack = 2 * time.Millisecond

// RunSlots runs the contract suite of storage.Slots as parallel subtests.
// newSlots returns an empty Slots of the implementation under test for each
// subtest, closed by the test's Cleanup. Reservations end on the store's
// own clock (the Redis server's, the wall clock), so the suite waits for
// them in real time, for as long as Reserve says.
func RunSlots(t *testing.T, newSlots func(t *testing.T) storage.Slots) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Slots)
	}{
		{"ReserveFrees", testReserveFrees},
		{"ReserveOff", testReserveOff},
		{"ReserveConcurrent", testReserveConcurrent},
		{"ReserveInvalid", testReserveInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newSlots(t))
		})
	}
}

func mustReserve(t *testing.T, s storage.Slots, name string, ttl time.Duration) time.Duration {
	t.Helper()
	wait, err := s.Reserve(t.Context(), name, ttl)
	if err != nil {
		t.Fatalf("Reserve(%q, %v) = %v", name, ttl, err)
	}
	return wait
}

func testReserveFrees(t *testing.T, s storage.Slots) {
	start := time.Now()
	if wait := mustReserve(t, s, "a", slotTTL); wait != 0 {
		t.Fatalf("Reserve(a) of a free slot = %v; want 0", wait)
	}
	taken := time.Now() // the reservation ends by taken+slotTTL
	if wait := mustReserve(t, s, "a", slotTTL); wait <= 0 || wait > slotTTL {
		t.Errorf("Reserve(a) again within the ttl = %v; want 0 < wait <= %v", wait, slotTTL)
	}
	if wait := mustReserve(t, s, "b", slotTTL); wait != 0 {
		t.Errorf("Reserve(b) while a is taken = %v; want 0: slots are independent", wait)
	}
	// Wait as told until a frees, asking at least three times a ttl, so a
	// Reserve that extended the slot would say it ends later than it does.
	for try := 0; ; try++ {
		before := time.Now()
		wait := mustReserve(t, s, "a", slotTTL)
		if wait == 0 {
			break
		}
		if limit := taken.Add(slotTTL).Sub(before) + slotSlack; wait > limit {
			t.Fatalf("Reserve(a) %v after taking it = %v; want at most %v: the reservation was extended", before.Sub(start), wait, limit)
		}
		if try == 20 {
			t.Fatalf("Reserve(a) still taken after %v and %d tries; want it free after %v", time.Since(start), try, slotTTL)
		}
		select {
		case <-time.After(min(wait, slotTTL/3)):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
	if got := time.Since(start); got < slotTTL-slotSlack {
		t.Errorf("Reserve(a) took the slot again %v after the first; want at least the ttl %v", got, slotTTL)
	}
	if wait := mustReserve(t, s, "a", slotTTL); wait <= 0 || wait > slotTTL {
		t.Errorf("Reserve(a) right after retaking it = %v; want 0 < wait <= %v", wait, slotTTL)
	}
}

func testReserveOff(t *testing.T, s storage.Slots) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		for range 2 {
			if wait := mustReserve(t, s, "off", ttl); wait != 0 {
				t.Errorf("Reserve(off, %v) = %v; want 0: no reservation", ttl, wait)
			}
		}
	}
	if wait := mustReserve(t, s, "off", slotTTL); wait != 0 {
		t.Errorf("Reserve(off, %v) after ttls that are off = %v; want 0: they took nothing", slotTTL, wait)
	}
}

func testReserveConcurrent(t *testing.T, s storage.Slots) {
	const callers = 8
	var (
		mu    sync.Mutex
		taken int
		wg    sync.WaitGroup
	)
	for range callers {
		wg.Go(func() {
			wait, err := s.Reserve(t.Context(), "race", time.Minute)
			if err != nil {
				t.Errorf("Reserve(race) = %v", err)
				return
			}
			if wait == 0 {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if taken != 1 {
		t.Errorf("%d concurrent Reserve(race) calls took the slot %d times; want once", callers, taken)
	}
}

func testReserveInvalid(t *testing.T, s storage.Slots) {
	if _, err := s.Reserve(t.Context(), "", slotTTL); err == nil {
		t.Error("Reserve of an empty name = nil error; want one")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Reserve(ctx, "cancelled", slotTTL)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "storage: reserve: ") {
		t.Errorf("Reserve with a cancelled context = %v; want context.Canceled, as storage: reserve: ...", err)
	}
	if wait := mustReserve(t, s, "cancelled", slotTTL); wait != 0 {
		t.Errorf("Reserve(cancelled) after the cancelled call = %v; want 0: it took nothing", wait)
	}
}
