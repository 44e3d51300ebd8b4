package storage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

// TestRedisRosterRoundTrips checks that each roster call and Admit with a
// guild's settings cost one round trip once the scripts are cached.
func TestRedisRosterRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _, hook := countedRedis(t)
	l := storage.Limits{MaxRunning: 1, GuildDailyLimit: 5, DailyLimit: 10}
	if _, err := s.UpdateGuildSettings(ctx, "g1", func(gs *storage.GuildSettings) { gs.ShowcaseChannelID = "c" }); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Admit", func() error { _, err := s.Admit(ctx, t0, gateJob("a", "u1", "g1"), l); return err }},
		{"Admit", func() error { _, err := s.Admit(ctx, t0, gateJob("b", "u2", "g1"), l); return err }},
		{"GuildJobs", func() error { _, err := s.GuildJobs(ctx, "g1"); return err }},
		{"UserJobs", func() error { _, err := s.UserJobs(ctx, "u1"); return err }},
		{"Usage", func() error { _, err := s.Usage(ctx, t0, "u1", "g1"); return err }},
		{"Queue", func() error { _, err := s.Queue(ctx, 0); return err }},
		{"ClaimPositionEdit", func() error { _, err := s.ClaimPositionEdit(ctx, t0, "b", 3, 0); return err }},
		{"Cancel", func() error { _, err := s.Cancel(ctx, t0, "b"); return err }},
		{"GuildSettings", func() error { _, err := s.GuildSettings(ctx, "g1"); return err }},
	}
	// Load the scripts and open the pool's connections.
	s.Admit(ctx, t0, gateJob("warm", "u0", ""), storage.Limits{})
	s.GuildJobs(ctx, "none")
	s.Queue(ctx, 1)
	s.ClaimPositionEdit(ctx, t0, "none", 1, 0)
	s.Cancel(ctx, t0, "none")
	s.Finish(ctx, "warm")
	for _, c := range calls {
		hook.take()
		if err := c.call(); err != nil {
			t.Fatalf("%s = %v", c.name, err)
		}
		if cmds, pipes := hook.take(); len(cmds) != 1 || pipes != 0 {
			t.Errorf("%s sent %v and %d pipelines; want one command", c.name, cmds, pipes)
		}
	}
}

// TestRedisOldRecords checks that a job admitted before admission days and
// shown places were recorded can still be listed, edited and cancelled, and
// that Cancel never takes a count below zero.
func TestRedisOldRecords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newRedis(t, storagetest.Prefix(t), nil)
	rc, base := storage.RedisClient(s), storage.RedisKeyBase(s)
	l := storage.Limits{MaxRunning: 1}
	for _, j := range []storage.Job{gateJob("a", "u1", "g1"), gateJob("old", "u2", "g1"), gateJob("new", "u3", "g1")} {
		if _, err := s.Admit(ctx, t0, j, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.HDel(ctx, base+"job:old", "admitted_day", "shown_position", "shown_at").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Del(ctx, base+"user:u3:day:20250601").Err(); err != nil { // as if it expired
		t.Fatal(err)
	}
	jobs, err := s.Queue(ctx, 0)
	if err != nil || len(jobs) != 2 || jobs[0].ID != "old" || jobs[0].ShownPosition != 0 {
		t.Fatalf("Queue(0) = %+v, %v; want old first, with no place shown", jobs, err)
	}
	if ok, err := s.ClaimPositionEdit(ctx, t0, "old", 1, time.Hour); !ok || err != nil {
		t.Errorf("ClaimPositionEdit(old) = %v, %v; want true: nothing was shown", ok, err)
	}
	if _, err := s.Cancel(ctx, t0, "old"); err != nil {
		t.Fatalf("Cancel(old) = %v", err)
	}
	if _, err := s.Cancel(ctx, t0, "new"); err != nil {
		t.Fatalf("Cancel(new) = %v", err)
	}
	u, err := s.Usage(ctx, t0, "u2", "g1")
	if want := (storage.Usage{UserToday: 1, GuildToday: 2, BotToday: 2}); err != nil || u != want {
		t.Errorf("Usage(u2, g1) = %+v, %v; want %+v: old's day unknown, so nothing taken off for it", u, err, want)
	}
	if n, err := rc.Exists(ctx, base+"user:u3:day:20250601").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS of the expired day count after Cancel = %d, %v; want 0, never below zero", n, err)
	}
}

// TestRedisRosterDropsStale checks that the job lists drop ids whose hash
// expired.
func TestRedisRosterDropsStale(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newRedis(t, storagetest.Prefix(t), nil)
	rc, base := storage.RedisClient(s), storage.RedisKeyBase(s)
	l := storage.Limits{MaxRunning: 1}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Admit(ctx, t0, gateJob(id, "u1", "g1"), l); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.Del(ctx, base+"job:a", base+"job:b").Err(); err != nil { // as their TTL would
		t.Fatal(err)
	}
	jobs, err := s.GuildJobs(ctx, "g1")
	if err != nil || len(jobs) != 1 || jobs[0].ID != "c" || jobs[0].Position != 2 {
		t.Errorf("GuildJobs(g1) = %+v, %v; want only c, queued at 2 (the queue still holds b)", jobs, err)
	}
	if got, err := rc.SMembers(ctx, base+"guild:g1:active").Result(); err != nil || !cmp.Equal(got, []string{"c"}) {
		t.Errorf("SMEMBERS guild:g1:active after GuildJobs = %v, %v; want [c]", got, err)
	}
	jobs, err = s.Queue(ctx, 0)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "c" || jobs[0].Position != 1 {
		t.Errorf("Queue(0) = %+v, %v; want only c, at 1", jobs, err)
	}
	if got, err := rc.ZRange(ctx, base+"queue", 0, -1).Result(); err != nil || !cmp.Equal(got, []string{"c"}) {
		t.Errorf("ZRANGE queue after Queue = %v, %v; want [c]", got, err)
	}
}

// TestBoltRosterDropsStale does what TestRedisRosterDropsStale does for a
// record lost from the file.
func TestBoltRosterDropsStale(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	l := storage.Limits{MaxRunning: 1}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Admit(ctx, t0, gateJob(id, "u1", "g1"), l); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a", "b"} {
		if err := storage.BoltDelete(s, "jobs", id); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.UserJobs(ctx, "u1")
	if err != nil || len(jobs) != 1 || jobs[0].ID != "c" || jobs[0].Position != 1 {
		t.Errorf("UserJobs(u1) = %+v, %v; want only c, at 1", jobs, err)
	}
	if n := storage.BoltLen(s, "user_active"); n != 1 {
		t.Errorf("user_active holds %d keys after UserJobs; want 1, c's", n)
	}
	if _, err := s.Cancel(ctx, t0, "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Cancel of a lost record = %v; want ErrNotFound", err)
	}
	if pos, err := s.QueuePosition(ctx, "c"); pos != 1 || err != nil {
		t.Errorf("QueuePosition(c) after Cancel released b's place = %d, %v; want 1", pos, err)
	}
}

// TestBoltOldRecords checks that a record written before admission days
// and shown places can be cancelled and edited.
func TestBoltOldRecords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	l := storage.Limits{MaxRunning: 1}
	for _, j := range []storage.Job{gateJob("a", "u1", "g1"), gateJob("old", "u2", "g1")} {
		if _, err := s.Admit(ctx, t0, j, l); err != nil {
			t.Fatal(err)
		}
	}
	for bucket, field := range map[string]string{"jobs": "admitted_day", "job_state": "shown_position"} {
		var f map[string]string
		if err := json.Unmarshal(storage.BoltGet(s, bucket, "old"), &f); err != nil {
			t.Fatalf("%s of old: %v", bucket, err)
		}
		delete(f, field)
		delete(f, "shown_at")
		raw, _ := json.Marshal(f)
		if err := storage.BoltPut(s, bucket, "old", raw); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.ClaimPositionEdit(ctx, t0, "old", 1, time.Hour); !ok || err != nil {
		t.Errorf("ClaimPositionEdit(old) = %v, %v; want true: nothing was shown", ok, err)
	}
	if _, err := s.Cancel(ctx, t0, "old"); err != nil {
		t.Fatalf("Cancel(old) = %v", err)
	}
	u, err := s.Usage(ctx, t0, "u2", "g1")
	if want := (storage.Usage{UserToday: 1, GuildToday: 2, BotToday: 2}); err != nil || u != want {
		t.Errorf("Usage(u2, g1) = %+v, %v; want %+v: old's day unknown, so nothing taken off", u, err, want)
	}
}

// TestGuildSettingsDamaged checks that a damaged settings record is an
// error for GuildSettings, and that Admit reads its damaged overrides as
// unset rather than failing.
func TestGuildSettingsDamaged(t *testing.T) {
	t.Parallel()
	stores := []struct {
		name   string
		open   func(t *testing.T) storagetest.GuildStore
		damage func(t *testing.T, s storagetest.GuildStore)
	}{
		{"redis", func(t *testing.T) storagetest.GuildStore { return storagetest.NewRedisStore(t) },
			func(t *testing.T, s storagetest.GuildStore) {
				r := s.(*storage.Redis)
				key := storage.RedisKeyBase(r) + "guild:g1:settings"
				if err := storage.RedisClient(r).HSet(t.Context(), key, "user_max_active", "many", "user_daily_limit", "1").Err(); err != nil {
					t.Fatal(err)
				}
			}},
		{"bolt", func(t *testing.T) storagetest.GuildStore {
			return openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
		}, func(t *testing.T, s storagetest.GuildStore) {
			raw := []byte(`{"v":"1","user_max_active":"many","user_daily_limit":"1"}`)
			if err := storage.BoltPut(s.(*storage.Bolt), "guild_settings", "g1", raw); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := st.open(t)
			if _, err := s.UpdateGuildSettings(ctx, "g1", func(gs *storage.GuildSettings) { gs.ShowcaseChannelID = "c" }); err != nil {
				t.Fatal(err)
			}
			st.damage(t, s)
			if _, err := s.GuildSettings(ctx, "g1"); !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("GuildSettings of a damaged record = %v; want ErrCorrupt", err)
			}
			l := storage.Limits{UserMaxActive: 1}
			for i, want := range []storage.Refusal{"", storage.RefusedUserActive} {
				adm, err := s.Admit(ctx, t0, gateJob(fmt.Sprint(i), "u1", "g1"), l)
				if err != nil || adm.Refused != want || adm.Limits.UserMaxActive != 1 || adm.Limits.UserDailyLimit != 1 {
					t.Errorf("Admit %d = %+v, %v; want refused %q, the operator's UserMaxActive 1 and the readable override", i, adm, err, want)
				}
			}
		})
	}
}
