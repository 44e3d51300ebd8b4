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
			errs := make([]error, len(jobs))
			for i, j := range jobs {
				if j.ID == "gone" {
					errs[i] = storage.ErrNotFound
				}
			}
			return errs
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
