package bot

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestHeartbeatCancelsWorkWhoseLeaseIsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var extended [][]string
		store := fakeStore{fakeQueue: fakeQueue{ExtendFn: func(ids []string) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			extended = append(extended, ids)
			if len(extended) == 2 {
				return ids, nil // another process took it
			}
			return nil, nil
		}}}
		b := newTestBot(t, Options{Lease: 9 * time.Second}, &fakeDiscord{}, store, fakeWhisul{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go b.heartbeat(ctx)
		held, release := b.leases.hold(ctx, "job1", time.Now().Add(9*time.Second))
		defer release()

		time.Sleep(4 * time.Second) // one renewal at 3s
		mu.Lock()
		renewals := len(extended)
		mu.Unlock()
		if held.Err() != nil || renewals != 1 {
			t.Fatalf("after one heartbeat: ctx err %v, %d Extend calls; want the work running, one renewal", held.Err(), renewals)
		}
		time.Sleep(3 * time.Second) // the second renewal finds the lease lost
		if !errors.Is(context.Cause(held), errLeaseLost) {
			t.Errorf("work context after its lease was lost: cause %v; want errLeaseLost", context.Cause(held))
		}
	})
}

func TestHeartbeatStopsWorkBeforeAnUnrenewedLeaseEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := fakeStore{fakeQueue: fakeQueue{ExtendFn: func([]string) ([]string, error) {
			return nil, errors.New("redis: connection refused")
		}}}
		b := newTestBot(t, Options{Lease: 9 * time.Second}, &fakeDiscord{}, store, fakeWhisul{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go b.heartbeat(ctx)
		until := time.Now().Add(9 * time.Second)
		held, release := b.leases.hold(ctx, "job1", until)
		defer release()

		<-held.Done()
		if left := time.Until(until); left < 3*time.Second || !errors.Is(context.Cause(held), errLeaseLost) {
			t.Errorf("work stopped %v before its lease ended, cause %v; want at least a third of the lease (3s) before, errLeaseLost", left, context.Cause(held))
		}
	})
}

func TestDeliveryWithALostLeaseEditsNothing(t *testing.T) {
	t.Parallel()
	q := &queueFor{removed: true}
	fq := q.fake()
	fq.ExtendFn = func(ids []string) ([]string, error) { return ids, nil }
	d := &fakeDiscord{}
	b := newTestBot(t, Options{}, d, fakeStore{fakeQueue: fq}, fakeWhisul{})
	b.deliver(t.Context(), pendingJob(time.Now(), "u1", false), failedDelivery("x"))
	if got := d.Calls(); len(got) != 0 || len(q.finished) != 0 {
		t.Errorf("Discord calls %v, Finish %v with the lease lost; want none", got, q.finished)
	}
}

// TestDeliveryExtendsOnlyAnOldLease: a delivery under a lease taken
// moments ago goes straight to Discord; one whose lease is past half its
// time renews it first, and edits nothing when that shows the lease lost,
// as does one whose work the heartbeat cancelled.
func TestDeliveryExtendsOnlyAnOldLease(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		left      time.Duration // of the default 10s lease
		cancelled bool
		lost      bool
		extends   int
		edited    bool
	}{
		{name: "fresh", left: 9 * time.Second, extends: 0, edited: true},
		{name: "old", left: 4 * time.Second, extends: 1, edited: true},
		{name: "old and lost", left: 4 * time.Second, lost: true, extends: 1, edited: false},
		{name: "fresh but cancelled", left: 9 * time.Second, cancelled: true, lost: true, extends: 1, edited: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := &queueFor{removed: true}
			fq := q.fake()
			var mu sync.Mutex
			extends := 0
			fq.ExtendFn = func(ids []string) ([]string, error) {
				mu.Lock()
				extends++
				mu.Unlock()
				if tt.lost {
					return ids, nil
				}
				return nil, nil
			}
			d := &fakeDiscord{}
			b := newTestBot(t, Options{}, d, fakeStore{fakeQueue: fq}, fakeWhisul{})
			job := pendingJob(time.Now(), "u1", false)
			ctx, release := b.leases.hold(t.Context(), job.ID, time.Now().Add(tt.left))
			defer release()
			if tt.cancelled {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				cancel()
			}
			b.deliver(ctx, job, failedDelivery("x"))
			if extends != tt.extends {
				t.Errorf("Extend called %d times; want %d", extends, tt.extends)
			}
			if edited := len(d.Edits()) > 0; edited != tt.edited {
				t.Errorf("reply edited: %t (Discord calls %v); want %t", edited, d.Calls(), tt.edited)
			}
		})
	}
}
