package storage_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func BenchmarkRedis(b *testing.B) {
	benchStore(b, func(b *testing.B) storage.Store { return storagetest.NewRedisStore(b) })
}

func BenchmarkBolt(b *testing.B) {
	benchStore(b, func(b *testing.B) storage.Store {
		return openBolt(b, filepath.Join(b.TempDir(), "songbot.db"), nil)
	})
}

// fill saves n jobs due at t0, named from first on.
func fill(b *testing.B, s storage.Store, first, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("job-%07d", first+i)
		if err := s.Save(b.Context(), job(ids[i], t0)); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

func benchStore(b *testing.B, newStore func(b *testing.B) storage.Store) {
	const lease = time.Minute
	b.Run("Save", func(b *testing.B) {
		s := newStore(b)
		i := 0
		for b.Loop() {
			if err := s.Save(b.Context(), job(fmt.Sprint(i), t0)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Claim100", func(b *testing.B) {
		s := newStore(b)
		fill(b, s, 0, 1000)
		now := t0
		for b.Loop() {
			jobs, err := s.Claim(b.Context(), now, "test-token", lease, 100)
			if err != nil || len(jobs) != 100 {
				b.Fatalf("Claim = %d jobs, %v; want 100", len(jobs), err)
			}
			now = now.Add(lease) // every lease has run out
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(100*b.N), "ns/job")
	})
	b.Run("Finish", func(b *testing.B) {
		s := newStore(b)
		var ids []string
		next := 0
		for b.Loop() {
			if len(ids) == 0 {
				b.StopTimer()
				ids = fill(b, s, next, 1000)
				next += 1000
				b.StartTimer()
			}
			ok, err := s.Finish(b.Context(), ids[0])
			if !ok || err != nil {
				b.Fatalf("Finish(%s) = %v, %v", ids[0], ok, err)
			}
			ids = ids[1:]
		}
	})
	// The poll loop's batch: claim every due job, then reschedule them all.
	b.Run("ClaimReschedule10000", func(b *testing.B) {
		s := newStore(b)
		fill(b, s, 0, 10_000)
		now := t0
		cycle := func() {
			jobs, err := s.Claim(b.Context(), now, "test-token", lease, 10_000)
			if err != nil || len(jobs) != 10_000 {
				b.Fatalf("Claim = %d jobs, %v; want 10000", len(jobs), err)
			}
			now = now.Add(time.Second)
			for i := range jobs {
				jobs[i].NextPollAt = now
				jobs[i].LastStatus = "running"
			}
			for _, err := range s.RescheduleMany(b.Context(), jobs) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		cycle() // Redis caches the scripts; a running bot has them cached
		for b.Loop() {
			cycle()
		}
	})
}
