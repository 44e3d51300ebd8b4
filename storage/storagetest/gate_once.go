package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// testAdmitOnce: an interaction id admitted once is a duplicate afterwards,
// even once its job has finished, and a duplicate stores and counts
// nothing; a refused id is not remembered.
func testAdmitOnce(t *testing.T, s GateStore) {
	l := storage.Limits{UserCooldown: time.Minute}
	if got := mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l); got != runs() {
		t.Fatalf("Admit(a) = %+v; want it to run", got)
	}
	mustFinish(t, s, "a", true)
	later := base.Add(2 * time.Minute) // past the cooldown
	if got := mustAdmit(t, s, later, gateJob("a", "u1", "g1"), l); got != (storage.Admission{Duplicate: true}) {
		t.Errorf("Admit(a) after Finish(a) = %+v; want Duplicate only", got)
	}
	if _, err := s.Get(t.Context(), "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(a) after a duplicate Admit = %v; want ErrNotFound (nothing stored)", err)
	}
	mustCounts(t, s, 0, 0)
	// The duplicate did not count as an admission for the cooldown.
	if got := mustAdmit(t, s, later, gateJob("b", "u1", "g1"), l); got != runs() {
		t.Errorf("Admit(b) after a duplicate = %+v; want it to run (the duplicate started no cooldown)", got)
	}

	if got := mustAdmit(t, s, later, gateJob("c", "u1", "g1"), l); got.Refused != storage.RefusedCooldown {
		t.Fatalf("Admit(c) in the cooldown = %+v; want refused", got)
	}
	if got := mustAdmit(t, s, later.Add(2*time.Minute), gateJob("c", "u1", "g1"), l); got != runs() {
		t.Errorf("Admit(c) after its refusal = %+v; want it to run: a refused id is not remembered", got)
	}
}

// testAdmitOnceConcurrent: of many Admits of one id at once, as from
// instances behind a balancer, exactly one is not a duplicate.
func testAdmitOnceConcurrent(t *testing.T, s GateStore) {
	const callers = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first int
	)
	for range callers {
		wg.Go(func() {
			adm, err := s.Admit(t.Context(), base, gateJob("same", "u1", "g1"), storage.Limits{})
			if err != nil {
				t.Errorf("Admit(same) = %v", err)
				return
			}
			if !adm.Duplicate {
				mu.Lock()
				first++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != 1 {
		t.Errorf("%d of %d concurrent Admit(same) calls were not duplicates; want exactly 1", first, callers)
	}
	mustCounts(t, s, 1, 0)
}
