package storage_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func BenchmarkRedisGate(b *testing.B) {
	benchGate(b, func(b *testing.B) storagetest.GateStore { return storagetest.NewRedisStore(b) })
}

func BenchmarkBoltGate(b *testing.B) {
	benchGate(b, func(b *testing.B) storagetest.GateStore {
		return openBolt(b, filepath.Join(b.TempDir(), "songbot.db"), nil)
	})
}

// benchLimits are the defaults of the configuration.
var benchLimits = storage.Limits{
	MaxRunning: 20, MaxQueued: 200, UserMaxActive: 2, UserCooldown: 15 * time.Second,
}

func benchGate(b *testing.B, newStore func(b *testing.B) storagetest.GateStore) {
	admit := func(b *testing.B, s storage.Gate, id, user string, want bool) {
		adm, err := s.Admit(b.Context(), t0, gateJob(id, user, "guild"), benchLimits)
		if err != nil || (adm.Refused == "") != want {
			b.Fatalf("Admit(%s) = %+v, %v; want admitted %t", id, adm, err, want)
		}
	}
	// A song's whole stay: admitted into a free slot, then finished.
	b.Run("AdmitFinish", func(b *testing.B) {
		s := newStore(b)
		i := 0
		for b.Loop() {
			id := fmt.Sprint(i)
			admit(b, s, id, "user-"+id, true)
			if ok, err := s.Finish(b.Context(), id); !ok || err != nil {
				b.Fatalf("Finish(%s) = %v, %v", id, ok, err)
			}
			i++
		}
	})
	// One person typing /song again and again during the cooldown.
	b.Run("AdmitRefused", func(b *testing.B) {
		s := newStore(b)
		admit(b, s, "first", "spammer", true)
		i := 0
		for b.Loop() {
			admit(b, s, fmt.Sprint(i), "spammer", false)
			i++
		}
	})
	// The queue at its bound: a slot frees, the head moves up, a newcomer
	// joins the back.
	b.Run("FinishPromoteAdmit", func(b *testing.B) {
		s := newStore(b)
		var running []string
		for i := range benchLimits.MaxRunning + benchLimits.MaxQueued {
			id := fmt.Sprint(i)
			admit(b, s, id, "user-"+id, true)
			if i < benchLimits.MaxRunning {
				running = append(running, id)
			}
		}
		next := benchLimits.MaxRunning + benchLimits.MaxQueued
		for b.Loop() {
			if ok, err := s.Finish(b.Context(), running[0]); !ok || err != nil {
				b.Fatalf("Finish(%s) = %v, %v", running[0], ok, err)
			}
			ids, err := s.Promote(b.Context(), t0, benchLimits)
			if err != nil || len(ids) != 1 {
				b.Fatalf("Promote = %v, %v; want one id", ids, err)
			}
			running = append(running[1:], ids[0])
			id := fmt.Sprint(next)
			admit(b, s, id, "user-"+id, true)
			next++
		}
	})
	// What every process pays on every turn of its poll loop.
	b.Run("PromoteEmptyQueue", func(b *testing.B) {
		s := newStore(b)
		for b.Loop() {
			if _, err := s.Promote(b.Context(), t0, benchLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBoltAdmitBurst is a burst of /song: 200 users at once, each
// Admit waiting until its job is on disk, at the default limits (20 run,
// the rest queue). Finishing the burst afterwards is not timed.
func BenchmarkBoltAdmitBurst(b *testing.B) {
	const burst = 200
	s := openBolt(b, filepath.Join(b.TempDir(), "songbot.db"), nil)
	round := 0
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range burst {
			id := fmt.Sprintf("r%d-%d", round, i)
			wg.Go(func() {
				adm, err := s.Admit(b.Context(), t0, gateJob(id, "user-"+id, "guild"), benchLimits)
				if err != nil || adm.Refused != "" {
					b.Errorf("Admit(%s) = %+v, %v; want admitted", id, adm, err)
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		for i := range burst {
			if _, err := s.Finish(b.Context(), fmt.Sprintf("r%d-%d", round, i)); err != nil {
				b.Fatal(err)
			}
		}
		round++
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(burst*b.N), "ns/admit")
}
