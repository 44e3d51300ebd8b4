package bot

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestAckFirstWaitsForTheBurstToBeAnswered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var a ackFirst
		first := a.begin()
		second := a.begin()
		start := time.Now()
		done := make(chan time.Duration)
		go func() {
			a.wait(t.Context(), time.Hour)
			done <- time.Since(start)
		}()

		time.Sleep(10 * time.Millisecond)
		first()
		first() // a second call changes nothing
		synctest.Wait()
		select {
		case d := <-done:
			t.Fatalf("wait returned after %v with an interaction still unanswered", d)
		default:
		}
		time.Sleep(10 * time.Millisecond)
		second()
		// Both began at the start: the wait ends ackQuiet after that.
		if got := <-done; got != ackQuiet {
			t.Errorf("wait returned after %v; want ackQuiet, %v, since the last interaction arrived", got, ackQuiet)
		}

		// Answered after ackQuiet: the wait ends with the answer.
		late := a.begin()
		start = time.Now()
		go func() {
			a.wait(t.Context(), time.Hour)
			done <- time.Since(start)
		}()
		time.Sleep(2 * ackQuiet)
		late()
		if got := <-done; got != 2*ackQuiet {
			t.Errorf("wait returned after %v; want %v, when the last interaction was answered", got, 2*ackQuiet)
		}
	})
}

func TestAckFirstWaitIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var a ackFirst
		never := a.begin()
		defer never()
		start := time.Now()
		a.wait(t.Context(), ackHoldMax)
		if got := time.Since(start); got != ackHoldMax {
			t.Errorf("wait with an interaction never answered returned after %v; want ackHoldMax, %v", got, ackHoldMax)
		}

		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		start = time.Now()
		a.wait(ctx, time.Hour)
		if got := time.Since(start); got != time.Millisecond {
			t.Errorf("wait returned %v after its context ended; want at once", got)
		}
	})
}

func TestAckFirstDoesNotWaitWhenQuiet(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var a ackFirst
		start := time.Now()
		a.wait(t.Context(), time.Hour)
		if got := time.Since(start); got != 0 {
			t.Errorf("wait with nothing ever begun took %v; want 0", got)
		}
		a.begin()()
		time.Sleep(ackQuiet)
		start = time.Now()
		a.wait(t.Context(), time.Hour)
		if got := time.Since(start); got != 0 {
			t.Errorf("wait ackQuiet after the last answer took %v; want 0", got)
		}
	})
}
