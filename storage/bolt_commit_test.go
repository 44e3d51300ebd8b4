package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

// TestGroupCommit queues writes behind a transaction under way: they must
// commit together in the next one, except the one that fails, which alone
// gets its error and writes nothing.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "commit.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bucket := []byte("b")
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		t.Fatal(err)
	}
	g := &groupCommit{db: db}
	const writes, failing = 20, 7
	boom := errors.New("boom")
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.do(func(tx *bbolt.Tx) error { <-release; return tx.Bucket(bucket).Put([]byte("first"), nil) })
	}()
	for !g.leading() {
		runtime.Gosched()
	}
	errs := make([]error, writes)
	txIDs := make([]int, writes) // of each write's last run, set afresh on every run
	var wg sync.WaitGroup
	for i := range writes {
		wg.Go(func() {
			errs[i] = g.do(func(tx *bbolt.Tx) error {
				txIDs[i] = tx.ID()
				if i == failing {
					return boom
				}
				return tx.Bucket(bucket).Put(fmt.Append(nil, i), nil)
			})
		})
	}
	for g.queued() < writes {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Errorf("do(first) = %v", err)
	}
	committed := map[int]bool{}
	for i, err := range errs {
		switch {
		case i == failing && !errors.Is(err, boom):
			t.Errorf("do(%d), whose fn fails = %v; want its error", i, err)
		case i != failing && err != nil:
			t.Errorf("do(%d) = %v; want nil, only write %d failed", i, err, failing)
		case i != failing:
			committed[txIDs[i]] = true
		}
	}
	if len(committed) != 1 {
		t.Errorf("the %d writes queued behind one transaction committed in %d transactions; want 1", writes-1, len(committed))
	}
	db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket(bucket).Stats().KeyN; n != writes {
			t.Errorf("bucket holds %d keys; want %d: first and every write but the failing one", n, writes)
		}
		return nil
	})
}
