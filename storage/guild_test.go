package storage_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func TestRedisGuildContract(t *testing.T) {
	t.Parallel()
	storagetest.RunGuild(t, func(t *testing.T) storagetest.Backend {
		prefix := storagetest.Prefix(t)
		// Each handle has a client of its own: another process.
		return func(t *testing.T) storagetest.GuildStore { return newRedis(t, prefix, nil) }
	})
}

func TestBoltGuildContract(t *testing.T) {
	t.Parallel()
	storagetest.RunGuild(t, func(t *testing.T) storagetest.Backend {
		path := filepath.Join(t.TempDir(), "songbot.db")
		var (
			mu   sync.Mutex
			last *storage.Bolt
		)
		// Each handle is a restart: the one before is closed first.
		return func(t *testing.T) storagetest.GuildStore {
			mu.Lock()
			defer mu.Unlock()
			if last != nil {
				if err := last.Close(); err != nil {
					t.Fatalf("Close before reopening = %v", err)
				}
			}
			last = openBolt(t, path, nil)
			return last
		}
	})
}

// TestRedisGuildTwoStores races two processes' stores on one Redis.
func TestRedisGuildTwoStores(t *testing.T) {
	t.Parallel()
	stores := func(t *testing.T) []storagetest.GuildStore {
		prefix := storagetest.Prefix(t)
		return []storagetest.GuildStore{newRedis(t, prefix, nil), newRedis(t, prefix, nil)}
	}
	t.Run("CancelPromote", func(t *testing.T) {
		t.Parallel()
		storagetest.CancelPromoteRace(t, stores(t), 100)
	})
	t.Run("PositionEdit", func(t *testing.T) {
		t.Parallel()
		storagetest.PositionEditRace(t, stores(t), 16)
	})
}

func TestOverridesApply(t *testing.T) {
	t.Parallel()
	ptr := func(n int) *int { return &n }
	dur := func(d time.Duration) *time.Duration { return &d }
	operator := storage.Limits{
		MaxRunning: 3, MaxQueued: 50, UserMaxActive: 2, UserCooldown: time.Minute, UserDailyLimit: 10,
		GuildMaxActive: 5, GuildDailyLimit: 40, DailyLimit: 500,
	}
	tests := []struct {
		name string
		o    storage.Overrides
		want storage.Limits
	}{
		{"none", storage.Overrides{}, operator},
		{"all", storage.Overrides{
			UserMaxActive: ptr(4), UserCooldown: dur(time.Hour), UserDailyLimit: ptr(1),
			GuildMaxActive: ptr(9), GuildDailyLimit: ptr(100),
		}, storage.Limits{
			MaxRunning: 3, MaxQueued: 50, UserMaxActive: 4, UserCooldown: time.Hour, UserDailyLimit: 1,
			GuildMaxActive: 9, GuildDailyLimit: 100, DailyLimit: 500,
		}},
		{"zero is off, not unset", storage.Overrides{UserCooldown: dur(0), GuildDailyLimit: ptr(0)}, storage.Limits{
			MaxRunning: 3, MaxQueued: 50, UserMaxActive: 2, UserCooldown: 0, UserDailyLimit: 10,
			GuildMaxActive: 5, GuildDailyLimit: 0, DailyLimit: 500,
		}},
		{"one", storage.Overrides{UserDailyLimit: ptr(3)}, storage.Limits{
			MaxRunning: 3, MaxQueued: 50, UserMaxActive: 2, UserCooldown: time.Minute, UserDailyLimit: 3,
			GuildMaxActive: 5, GuildDailyLimit: 40, DailyLimit: 500,
		}},
	}
	for _, tt := range tests {
		if got := tt.o.Apply(operator); got != tt.want {
			t.Errorf("%s: Apply(operator) = %+v; want %+v", tt.name, got, tt.want)
		}
		if got := tt.o.IsZero(); got != (tt.name == "none") {
			t.Errorf("%s: IsZero() = %v", tt.name, got)
		}
	}
	// Apply leaves the overrides' values alone.
	o := storage.Overrides{UserMaxActive: ptr(4)}
	l := o.Apply(operator)
	l.UserMaxActive = 7
	if *o.UserMaxActive != 4 {
		t.Errorf("changing Apply's result changed the override to %d", *o.UserMaxActive)
	}
	if diff := cmp.Diff(operator.UserMaxActive, 2); diff != "" {
		t.Errorf("Apply changed its argument: %s", diff)
	}
}
