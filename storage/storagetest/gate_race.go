package storagetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/songbot-dev/songbot/storage"
)

// AdmitRace has callers goroutines, spread over stores (which share one
// backend), admit songs of 10 users at once under MaxRunning 5 and
// UserMaxActive 2, checking Counts after every call: never more than 5 run,
// and no user holds more than 2 places. Then they finish and promote
// concurrently, still never passing MaxRunning, until nothing is left.
func AdmitRace(t *testing.T, stores []GateStore, callers int) {
	t.Helper()
	const users, tries = 10, 8
	l := storage.Limits{MaxRunning: 5, UserMaxActive: 2}
	checkRunning := func(s GateStore, after string) {
		if r, _, err := s.Counts(t.Context()); err != nil || r > l.MaxRunning {
			t.Errorf("Counts() after %s = %d running, %v; want at most %d", after, r, err, l.MaxRunning)
		}
	}
	var mu sync.Mutex
	admitted := map[string][]string{} // user -> job ids
	var wg sync.WaitGroup
	for c := range callers {
		s := stores[c%len(stores)]
		wg.Go(func() {
			for i := range tries {
				for u := range users {
					user := fmt.Sprint("user-", u)
					id := fmt.Sprintf("c%d-%d-%d", c, i, u)
					adm, err := s.Admit(t.Context(), base, gateJob(id, user, "g"), l)
					if err != nil {
						t.Errorf("Admit(%s) = %v", id, err)
						return
					}
					checkRunning(s, "Admit("+id+")")
					if adm.Refused == "" {
						mu.Lock()
						admitted[user] = append(admitted[user], id)
						mu.Unlock()
					} else if adm.Refused != storage.RefusedUserActive {
						t.Errorf("Admit(%s) = %+v; want admitted or refused by user_active", id, adm)
					}
				}
			}
		})
	}
	wg.Wait()
	for u := range users {
		user := fmt.Sprint("user-", u)
		if n := len(admitted[user]); n != l.UserMaxActive {
			t.Errorf("%s was admitted %d times by %d racing callers; want %d", user, n, callers, l.UserMaxActive)
		}
	}
	mustCounts(t, stores[0], l.MaxRunning, users*l.UserMaxActive-l.MaxRunning)

	var all []string
	for _, jobs := range admitted {
		all = append(all, jobs...)
	}
	var next sync.Mutex
	for c := range callers {
		s := stores[c%len(stores)]
		wg.Go(func() {
			for {
				next.Lock()
				if len(all) == 0 {
					next.Unlock()
					return
				}
				id := all[0]
				all = all[1:]
				next.Unlock()
				if _, err := s.Finish(t.Context(), id); err != nil {
					t.Errorf("Finish(%s) = %v", id, err)
				}
				if _, err := s.Promote(t.Context(), base, l); err != nil {
					t.Errorf("Promote = %v", err)
				}
				checkRunning(s, "Finish("+id+") and Promote")
			}
		})
	}
	wg.Wait()
	mustCounts(t, stores[0], 0, 0)
}

// PromoteRace queues jobs behind MaxRunning slots and has callers
// goroutines, spread over stores (which share one backend), promote and
// finish them at once: each queued job must be promoted exactly once, in
// queue order within each call, and never more than MaxRunning run.
func PromoteRace(t *testing.T, stores []GateStore, jobs, callers int) {
	t.Helper()
	l := storage.Limits{MaxRunning: 3}
	for i := range jobs + l.MaxRunning {
		mustAdmit(t, stores[0], base, gateJob(fmt.Sprintf("job-%04d", i), fmt.Sprint("u", i), "g"), l)
	}
	mustCounts(t, stores[0], l.MaxRunning, jobs)
	var mu sync.Mutex
	promoted := map[string]int{}
	var wg sync.WaitGroup
	// The first slots' holders finish, so that promotion starts.
	for i := range l.MaxRunning {
		mustFinish(t, stores[0], fmt.Sprintf("job-%04d", i), true)
	}
	for c := range callers {
		s := stores[c%len(stores)]
		wg.Go(func() {
			for {
				ids, err := s.Promote(t.Context(), base, l)
				if err != nil {
					t.Errorf("Promote = %v", err)
					return
				}
				if r, _, err := s.Counts(t.Context()); err != nil || r > l.MaxRunning {
					t.Errorf("Counts() after Promote = %d running, %v; want at most %d", r, err, l.MaxRunning)
				}
				for i := 1; i < len(ids); i++ {
					if ids[i-1] >= ids[i] {
						t.Errorf("Promote = %v; want queue order", ids)
					}
				}
				mu.Lock()
				for _, id := range ids {
					promoted[id]++
				}
				done := len(promoted) == jobs
				mu.Unlock()
				for _, id := range ids {
					if ok, err := s.Finish(t.Context(), id); !ok || err != nil {
						t.Errorf("Finish(%s) = %v, %v; want true, nil", id, ok, err)
					}
				}
				if done || t.Failed() {
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range jobs {
		id := fmt.Sprintf("job-%04d", i+l.MaxRunning)
		if n := promoted[id]; n != 1 {
			t.Errorf("%s promoted %d times by %d callers; want once", id, n, callers)
		}
	}
	mustCounts(t, stores[0], 0, 0)
}
