package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/songbot-dev/songbot/storage"
)

func TestStateBatcherGroupsWritesDuringAFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var batches []int
		q := fakeQueue{RescheduleManyFn: func(jobs []storage.Job) []error {
			mu.Lock()
			batches = append(batches, len(jobs))
			mu.Unlock()
			if jobs[0].ID == "leader" {
				<-release // this flush is slow; the others queue meanwhile
			}
			return goneNotFound(jobs)
		}}
		s := &stateBatcher{queue: q}
		if err := s.write(context.Background(), storage.Job{ID: "alone"}); err != nil {
			t.Fatalf("write(alone) = %v", err)
		}
		go func() {
			if err := s.write(context.Background(), storage.Job{ID: "leader"}); err != nil {
				t.Errorf("write(leader) = %v", err)
			}
		}()
		synctest.Wait() // the leader's flush is under way
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			id := fmt.Sprint("job-", i)
			if i == 7 {
				id = "gone"
			}
			wg.Go(func() { errs[i] = s.write(context.Background(), storage.Job{ID: id}) })
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		synctest.Wait()
		if want := []int{1, 1, n}; !slices.Equal(batches, want) {
			t.Errorf("RescheduleMany batch sizes = %v; want %v (a lone write, the leader, then all %d that came during its flush)", batches, want, n)
		}
		for i, err := range errs {
			if wantGone := i == 7; wantGone != errors.Is(err, storage.ErrNotFound) {
				t.Errorf("write #%d = %v; want ErrNotFound only for the finished job", i, err)
			}
		}
	})
}

func TestStateBatcherPostDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var batches [][]string
		q := fakeQueue{RescheduleManyFn: func(jobs []storage.Job) []error {
			var ids []string
			for _, j := range jobs {
				ids = append(ids, j.ID)
			}
			mu.Lock()
			batches = append(batches, ids)
			mu.Unlock()
			if ids[0] == "slow" {
				<-release
			}
			return goneNotFound(jobs)
		}}
		s := &stateBatcher{queue: q}
		outcomes := map[string]error{}
		then := func(id string) func(error) {
			return func(err error) {
				mu.Lock()
				outcomes[id] = err
				mu.Unlock()
			}
		}
		// The post returns while its flush is still under way.
		s.post(context.Background(), storage.Job{ID: "slow"}, then("slow"))
		synctest.Wait()
		s.post(context.Background(), storage.Job{ID: "gone"}, then("gone"))
		// A write that arrives among posts goes in their next flush.
		wrote := make(chan error, 1)
		go func() { wrote <- s.write(context.Background(), storage.Job{ID: "waiter"}) }()
		synctest.Wait()
		s.post(context.Background(), storage.Job{ID: "after"}, then("after"))
		close(release)
		if err := <-wrote; err != nil {
			t.Errorf("write(waiter) = %v", err)
		}
		s.wait()
		want := [][]string{{"slow"}, {"gone", "waiter", "after"}}
		if !slices.EqualFunc(batches, want, slices.Equal) {
			t.Errorf("RescheduleMany batches = %v; want %v", batches, want)
		}
		if len(outcomes) != 3 || outcomes["slow"] != nil || outcomes["after"] != nil || !errors.Is(outcomes["gone"], storage.ErrNotFound) {
			t.Errorf("posted outcomes = %v; want nil for slow and after, ErrNotFound for gone", outcomes)
		}
	})
}

func TestStateBatcherWriterDoesNotLeadPosts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gates := map[string]chan struct{}{"slow": make(chan struct{}), "posted": make(chan struct{})}
		q := fakeQueue{RescheduleManyFn: func(jobs []storage.Job) []error {
			if g := gates[jobs[0].ID]; g != nil {
				<-g
			}
			return make([]error, len(jobs))
		}}
		s := &stateBatcher{queue: q}
		wrote := make(chan error, 1)
		go func() { wrote <- s.write(context.Background(), storage.Job{ID: "slow"}) }()
		synctest.Wait() // its caller leads a flush under way
		flushed := make(chan error, 1)
		s.post(context.Background(), storage.Job{ID: "posted"}, func(err error) { flushed <- err })
		close(gates["slow"])
		// The writer returns while the posted write's flush still waits.
		if err := <-wrote; err != nil {
			t.Errorf("write(slow) = %v", err)
		}
		select {
		case err := <-flushed:
			t.Fatalf("the posted write flushed (%v) before its flush was let go", err)
		default:
		}
		close(gates["posted"])
		s.wait()
		if err := <-flushed; err != nil {
			t.Errorf("posted write's outcome = %v; want nil", err)
		}
	})
}

// goneNotFound is RescheduleMany's answer when the job "gone" was
// finished meanwhile and the others are rescheduled.
func goneNotFound(jobs []storage.Job) []error {
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		if j.ID == "gone" {
			errs[i] = storage.ErrNotFound
		}
	}
	return errs
}
