package storagetest_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return storagetest.NewMemory(nil) }, nil)
}

func TestMemoryGateContract(t *testing.T) {
	t.Parallel()
	storagetest.RunGate(t, func(t *testing.T) storagetest.GateStore { return storagetest.NewMemory(nil) })
}

func TestMemoryHistoryContract(t *testing.T) {
	t.Parallel()
	storagetest.RunHistory(t, func(t *testing.T) storage.History {
		m := storagetest.NewMemory(nil)
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func TestMemorySlotContract(t *testing.T) {
	t.Parallel()
	storagetest.RunSlots(t, func(t *testing.T) storage.Slots {
		m := storagetest.NewMemory(nil)
		t.Cleanup(func() { m.Close() })
		return m
	})
}

// clock is a settable now for the history's TTLs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryHistoryExpiry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	m := storagetest.NewMemory(c.now)
	if err := m.AddSong(ctx, storagetest.NewSong("old", "u1", c.now()), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := m.AddSong(ctx, storagetest.NewSong("kept", "u1", c.now()), 0); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Hour - time.Millisecond)
	if _, err := m.Song(ctx, "old"); err != nil {
		t.Errorf("Song(old) a millisecond before its TTL = %v; want it", err)
	}
	c.advance(time.Millisecond)
	if _, err := m.Song(ctx, "old"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Song(old) at its TTL = %v; want ErrNotFound", err)
	}
	songs, err := m.Songs(ctx, "u1", 10)
	if err != nil || len(songs) != 1 || songs[0].Ref != "kept" {
		t.Errorf("Songs(u1, 10) after old expired = %v, %v; want [kept]", songs, err)
	}
}

func TestMemoryClosed(t *testing.T) {
	t.Parallel()
	m := storagetest.NewMemory(nil)
	if err := m.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := m.Ping(t.Context()); err == nil {
		t.Errorf("Ping() after Close = nil; want an error")
	}
	if _, err := m.Admit(t.Context(), time.Now(), storage.Job{ID: "a", Request: storage.Request{UserID: "u"}}, storage.Limits{}); err == nil {
		t.Errorf("Admit() after Close = nil error; want one")
	}
}

func TestMemoryGuildContract(t *testing.T) {
	t.Parallel()
	storagetest.RunGuild(t, func(t *testing.T) storagetest.Backend {
		m := storagetest.NewMemory(nil)
		t.Cleanup(func() { m.Close() })
		// One process: every handle is the same store.
		return func(*testing.T) storagetest.GuildStore { return m }
	})
}
