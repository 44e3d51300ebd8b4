package storage_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func TestRedisSlotContract(t *testing.T) {
	t.Parallel()
	storagetest.RunSlots(t, func(t *testing.T) storage.Slots {
		return storagetest.NewRedisStore(t)
	})
}

func TestBoltSlotContract(t *testing.T) {
	t.Parallel()
	storagetest.RunSlots(t, func(t *testing.T) storage.Slots {
		return openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	})
}

func TestRedisSlotSharedAcrossStores(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	a, b := newRedis(t, prefix, nil), newRedis(t, prefix, nil)
	other := newRedis(t, storagetest.Prefix(t), nil)
	if wait, err := a.Reserve(t.Context(), "identify:0", time.Minute); wait != 0 || err != nil {
		t.Fatalf("Reserve(identify:0) by the first process = %v, %v; want 0, nil", wait, err)
	}
	if wait, err := b.Reserve(t.Context(), "identify:0", time.Minute); wait <= 0 || wait > time.Minute || err != nil {
		t.Errorf("Reserve(identify:0) by a second process on the prefix = %v, %v; want a wait of at most a minute", wait, err)
	}
	if wait, err := other.Reserve(t.Context(), "identify:0", time.Minute); wait != 0 || err != nil {
		t.Errorf("Reserve(identify:0) under another prefix = %v, %v; want 0, nil: another bot", wait, err)
	}
}

func TestRedisSlotKey(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	s := newRedis(t, prefix, nil)
	client := storage.RedisClient(s)
	ctx := t.Context()
	if _, err := s.Reserve(ctx, "identify:3", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// The layout the package documentation promises an operator.
	key := prefix + "{" + strings.TrimRight(prefix, ":") + "}:slot:identify:3"
	if ttl, err := client.PTTL(ctx, key).Result(); err != nil || ttl <= 4*time.Second || ttl > 5*time.Second {
		t.Errorf("PTTL %s = %v, %v; want about 5s", key, ttl, err)
	}
	// A key left without expiry (by hand) gets the ttl instead of blocking for ever.
	if err := client.Persist(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if wait, err := s.Reserve(ctx, "identify:3", 5*time.Second); wait != 5*time.Second || err != nil {
		t.Errorf("Reserve of a slot whose key has no expiry = %v, %v; want 5s, nil", wait, err)
	}
	if ttl, err := client.PTTL(ctx, key).Result(); err != nil || ttl <= 4*time.Second || ttl > 5*time.Second {
		t.Errorf("PTTL %s after that Reserve = %v, %v; want about 5s", key, ttl, err)
	}
}
