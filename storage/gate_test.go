package storage_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func TestRedisGateContract(t *testing.T) {
	t.Parallel()
	storagetest.RunGate(t, func(t *testing.T) storagetest.GateStore {
		return storagetest.NewRedisStore(t)
	})
}

func TestBoltGateContract(t *testing.T) {
	t.Parallel()
	storagetest.RunGate(t, func(t *testing.T) storagetest.GateStore {
		return openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	})
}

// TestRedisGateTwoStores races two processes' stores on one Redis.
func TestRedisGateTwoStores(t *testing.T) {
	t.Parallel()
	stores := func(t *testing.T) []storagetest.GateStore {
		prefix := storagetest.Prefix(t)
		return []storagetest.GateStore{newRedis(t, prefix, nil), newRedis(t, prefix, nil)}
	}
	t.Run("Admit", func(t *testing.T) {
		t.Parallel()
		storagetest.AdmitRace(t, stores(t), 16)
	})
	t.Run("Promote", func(t *testing.T) {
		t.Parallel()
		storagetest.PromoteRace(t, stores(t), 300, 12)
	})
}

func gateJob(id, user, guild string) storage.Job {
	j := job(id, t0)
	j.UserID, j.GuildID = user, guild
	return j
}

// TestRedisGateLayout checks what an operator sees with redis-cli.
func TestRedisGateLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newRedis(t, storagetest.Prefix(t), nil)
	rc := storage.RedisClient(s)
	base := storage.RedisKeyBase(s)
	l := storage.Limits{MaxRunning: 1, UserCooldown: 15 * time.Second}
	for _, j := range []storage.Job{gateJob("1", "u1", "g1"), gateJob("2", "u2", "g1"), gateJob("3", "u3", "")} {
		if _, err := s.Admit(ctx, t0, j, l); err != nil {
			t.Fatal(err)
		}
	}
	sets := []struct {
		key  string
		want []string
	}{
		{base + "running", []string{"1"}},
		{base + "user:u1:active", []string{"1"}},
		{base + "user:u2:active", []string{"2"}},
		{base + "guild:g1:active", []string{"1", "2"}},
	}
	for _, st := range sets {
		got, err := rc.SMembers(ctx, st.key).Result()
		if err != nil || !cmp.Equal(got, st.want, sortStrings) {
			t.Errorf("SMEMBERS %s = %v, %v; want %v", st.key, got, err, st.want)
		}
		if ttl := rc.PTTL(ctx, st.key).Val(); st.key != base+"running" && (ttl < 47*time.Hour || ttl > 48*time.Hour) {
			t.Errorf("PTTL %s = %v; want about 48h", st.key, ttl)
		}
	}
	if got, err := rc.ZRangeWithScores(ctx, base+"queue", 0, -1).Result(); err != nil ||
		fmt.Sprint(got) != "[{1 2} {2 3}]" {
		t.Errorf("ZRANGE %squeue 0 -1 WITHSCORES = %v, %v; want 2 then 3, scores 1 and 2", base, got, err)
	}
	last := base + "user:u1:last"
	if got, err := rc.Get(ctx, last).Result(); err != nil || got != strconv.FormatInt(t0.UnixMilli(), 10) {
		t.Errorf("GET %s = %q, %v; want %d", last, got, err, t0.UnixMilli())
	}
	if ttl := rc.PTTL(ctx, last).Val(); ttl < 14*time.Second || ttl > 15*time.Second {
		t.Errorf("PTTL %s = %v; want the cooldown, 15s", last, ttl)
	}
	day := base + "user:u1:day:20250601"
	if got, err := rc.Get(ctx, day).Result(); err != nil || got != "1" {
		t.Errorf("GET %s = %q, %v; want 1", day, got, err)
	}
	if ttl := rc.PTTL(ctx, day).Val(); ttl < 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("PTTL %s = %v; want about 48h", day, ttl)
	}
	for key, want := range map[string]string{
		base + "guild:g1:day:20250601":  "2", // the DM's job counts for no guild
		base + "day:20250601":           "3",
		base + "user:u1:cooldown_until": strconv.FormatInt(t0.Add(15*time.Second).UnixMilli(), 10),
	} {
		if got, err := rc.Get(ctx, key).Result(); err != nil || got != want {
			t.Errorf("GET %s = %q, %v; want %s", key, got, err, want)
		}
	}
	if ttl := rc.PTTL(ctx, base+"day:20250601").Val(); ttl < 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("PTTL %sday:20250601 = %v; want about 48h", base, ttl)
	}
	fields, err := rc.HMGet(ctx, base+"job:2", "admitted_day", "shown_position", "shown_at").Result()
	if want := []any{"20250601", "1", strconv.FormatInt(t0.UnixMilli(), 10)}; err != nil || !cmp.Equal(fields, want) {
		t.Errorf("HMGET %sjob:2 admitted_day shown_position shown_at = %v, %v; want %v", base, fields, err, want)
	}
	for _, id := range []string{"1", "2", "3"} {
		if _, err := s.Finish(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := rc.Keys(ctx, base+"*").Result()
	var want []string
	for _, u := range []string{"u1", "u2", "u3"} {
		want = append(want, base+"user:"+u+":last", base+"user:"+u+":cooldown_until", base+"user:"+u+":day:20250601")
	}
	want = append(want, base+"guild:g1:day:20250601", base+"day:20250601")
	for _, id := range []string{"1", "2", "3"} {
		want = append(want, base+"seen:"+id)
	}
	if err != nil || !cmp.Equal(keys, want, sortStrings) {
		t.Errorf("KEYS %s* after every job finished = %v, %v; want only the cooldowns, the daily counts and the seen markers", base, keys, err)
	}
	if ttl := rc.PTTL(ctx, base+"seen:1").Val(); ttl < storage.SeenTTL-time.Minute || ttl > storage.SeenTTL {
		t.Errorf("PTTL %sseen:1 = %v; want about SeenTTL, %v", base, ttl, storage.SeenTTL)
	}
}

// verdict is an admission without the limits it applied, which these
// tests do not vary.
func verdict(a storage.Admission) storage.Admission {
	a.Limits = storage.Limits{}
	return a
}

// sortStrings compares string slices as sets.
var sortStrings = cmp.Transformer("sort", func(in []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range in {
		m[s] = true
	}
	return m
})

// TestRedisGateExpiredJobs checks that jobs whose hash expired, without
// Finish, stop holding places.
func TestRedisGateExpiredJobs(t *testing.T) {
	t.Parallel()
	expire := func(t *testing.T, s *storage.Redis, id string) {
		t.Helper()
		key, _, _ := storage.RedisKeys(s, id)
		if err := storage.RedisClient(s).Del(t.Context(), key).Err(); err != nil { // as its TTL would
			t.Fatal(err)
		}
	}
	admit := func(t *testing.T, s *storage.Redis, j storage.Job, l storage.Limits, want storage.Admission) {
		t.Helper()
		if got, err := s.Admit(t.Context(), t0, j, l); err != nil || verdict(got) != want {
			t.Errorf("Admit(%s) = %+v, %v; want %+v", j.ID, got, err, want)
		}
	}
	counts := func(t *testing.T, s *storage.Redis, running, queued int) {
		t.Helper()
		if r, q, err := s.Counts(t.Context()); r != running || q != queued || err != nil {
			t.Errorf("Counts() = %d, %d, %v; want %d, %d", r, q, err, running, queued)
		}
	}
	t.Run("Claim", func(t *testing.T) {
		t.Parallel()
		s := newRedis(t, storagetest.Prefix(t), nil)
		admit(t, s, gateJob("a", "u1", "g1"), storage.Limits{}, storage.Admission{})
		expire(t, s, "a")
		if _, err := s.Claim(t.Context(), t0, "test-token", time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		counts(t, s, 0, 0)
	})
	t.Run("AtTheLimits", func(t *testing.T) {
		t.Parallel()
		s := newRedis(t, storagetest.Prefix(t), nil)
		l := storage.Limits{MaxRunning: 1, MaxQueued: 1, UserMaxActive: 1, GuildMaxActive: 1}
		admit(t, s, gateJob("a", "u1", "g1"), l, storage.Admission{})
		expire(t, s, "a")
		admit(t, s, gateJob("b", "u1", "g1"), l, storage.Admission{}) // user, guild and running pruned
		admit(t, s, gateJob("c", "u2", "g2"), l, storage.Admission{Queued: true, Position: 1})
		expire(t, s, "c")
		admit(t, s, gateJob("d", "u3", "g3"), l, storage.Admission{Queued: true, Position: 1})
		counts(t, s, 1, 1)
	})
	t.Run("Promote", func(t *testing.T) {
		t.Parallel()
		s := newRedis(t, storagetest.Prefix(t), nil)
		l := storage.Limits{MaxRunning: 1}
		for _, id := range []string{"a", "b", "c"} {
			admit(t, s, gateJob(id, "u-"+id, "g1"), storage.Limits{MaxRunning: 1}, storage.Admission{
				Queued: id != "a", Position: map[string]int{"b": 1, "c": 2}[id]})
		}
		expire(t, s, "b")
		if _, err := s.Finish(t.Context(), "a"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Promote(t.Context(), t0, l); err != nil || !cmp.Equal(got, []string{"c"}) {
			t.Errorf("Promote = %v, %v; want [c], b dropped", got, err)
		}
		counts(t, s, 1, 0)
	})
}

// TestBoltGateLostRecords checks that a running or queued job whose record
// vanished is released in full, active buckets too, once a limit is reached.
func TestBoltGateLostRecords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	l := storage.Limits{MaxRunning: 1, MaxQueued: 1}
	lose := func(id string) {
		t.Helper()
		if err := storage.BoltDelete(s, "jobs", id); err != nil {
			t.Fatal(err)
		}
	}
	admit := func(id string, want storage.Admission) {
		t.Helper()
		if got, err := s.Admit(ctx, t0, gateJob(id, "u-"+id, "g-"+id), l); err != nil || verdict(got) != want {
			t.Errorf("Admit(%s) = %+v, %v; want %+v", id, got, err, want)
		}
	}
	admit("a", storage.Admission{})
	lose("a")
	admit("b", storage.Admission{}) // a's running slot freed
	admit("c", storage.Admission{Queued: true, Position: 1})
	lose("c")
	admit("d", storage.Admission{Queued: true, Position: 1}) // c's queue place freed
	if r, q, err := s.Counts(ctx); r != 1 || q != 1 || err != nil {
		t.Errorf("Counts() = %d, %d, %v; want 1, 1", r, q, err)
	}
	for _, bucket := range []string{"user_active", "guild_active"} {
		if n := storage.BoltLen(s, bucket); n != 2 {
			t.Errorf("%s holds %d keys; want 2, b's and d's", bucket, n)
		}
	}
}

// TestGateUndecodable checks that a record moved aside or finished while
// undecodable releases its places.
func TestGateUndecodable(t *testing.T) {
	t.Parallel()
	stores := []struct {
		name    string
		open    func(t *testing.T) storagetest.GateStore
		corrupt func(t *testing.T, s storagetest.GateStore, id string)
	}{
		{"redis", func(t *testing.T) storagetest.GateStore { return storagetest.NewRedisStore(t) },
			func(t *testing.T, s storagetest.GateStore, id string) {
				key, _, _ := storage.RedisKeys(s.(*storage.Redis), id)
				if err := storage.RedisClient(s.(*storage.Redis)).HSet(t.Context(), key, "v", "99").Err(); err != nil {
					t.Fatal(err)
				}
			}},
		{"bolt", func(t *testing.T) storagetest.GateStore {
			return openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
		}, func(t *testing.T, s storagetest.GateStore, id string) {
			if err := storage.BoltPut(s.(*storage.Bolt), "jobs", id, []byte(`{"v":`)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	l := storage.Limits{MaxRunning: 2, UserMaxActive: 1, GuildMaxActive: 1}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := st.open(t)
			for _, j := range []storage.Job{gateJob("moved", "u1", "g1"), gateJob("finished", "u2", "g2")} {
				if adm, err := s.Admit(ctx, t0, j, l); err != nil || adm.Refused != "" {
					t.Fatalf("Admit(%s) = %+v, %v", j.ID, adm, err)
				}
				st.corrupt(t, s, j.ID)
			}
			if ok, err := s.Finish(ctx, "finished"); !ok || err != nil {
				t.Fatalf("Finish(finished) = %v, %v; want true, nil", ok, err)
			}
			if got, err := s.Claim(ctx, t0, "test-token", time.Minute, 10); err != nil || len(got) != 0 {
				t.Fatalf("Claim = %v, %v; want nothing, the record moved aside", got, err)
			}
			if r, q, err := s.Counts(ctx); r != 0 || q != 0 || err != nil {
				t.Errorf("Counts() = %d, %d, %v; want 0, 0", r, q, err)
			}
			for _, j := range []storage.Job{gateJob("a", "u1", "g1"), gateJob("b", "u2", "g2")} {
				if adm, err := s.Admit(ctx, t0, j, l); err != nil || verdict(adm) != (storage.Admission{}) {
					t.Errorf("Admit(%s of %s) = %+v, %v; want running", j.ID, j.UserID, adm, err)
				}
			}
		})
	}
}

// TestRedisAdmitRoundTrips checks that Admit, Promote and Counts each cost
// one round trip once the scripts are cached.
func TestRedisAdmitRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _, hook := countedRedis(t)
	l := storage.Limits{MaxRunning: 1, MaxQueued: 10, UserMaxActive: 2, UserCooldown: time.Second, UserDailyLimit: 5, GuildMaxActive: 5}
	calls := []struct {
		name string
		call func() error
		want string
	}{
		{"Admit", func() error { _, err := s.Admit(ctx, t0, gateJob("a", "u1", "g1"), l); return err }, "[evalsha]"},
		{"Admit", func() error { _, err := s.Admit(ctx, t0, gateJob("b", "u2", "g1"), l); return err }, "[evalsha]"},
		{"Promote", func() error { _, err := s.Promote(ctx, t0, l); return err }, "[evalsha]"},
		{"Counts", func() error { _, _, err := s.Counts(ctx); return err }, "[] 1"},
	}
	s.Admit(ctx, t0, gateJob("warm", "u0", ""), storage.Limits{UserDailyLimit: -1}) // loads the scripts
	s.Promote(ctx, t0, l)
	s.Finish(ctx, "warm")
	s.Counts(ctx) // and opens the pool's connections
	for _, c := range calls {
		hook.take()
		if err := c.call(); err != nil {
			t.Fatalf("%s = %v", c.name, err)
		}
		cmds, pipes := hook.take()
		got := fmt.Sprint(cmds)
		if pipes > 0 {
			got = fmt.Sprint(cmds, " ", pipes)
		}
		if got != c.want {
			t.Errorf("%s sent %s; want %s", c.name, got, c.want)
		}
	}
}

// TestBoltGateReopen checks that the queue and the counts survive a restart.
func TestBoltGateReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "songbot.db")
	s, err := storage.OpenBolt(path, storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := storage.Limits{MaxRunning: 1, UserCooldown: time.Minute}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Admit(ctx, t0, gateJob(id, "u-"+id, "g1"), l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openBolt(t, path, nil)
	if r, q, err := s.Counts(ctx); r != 1 || q != 2 || err != nil {
		t.Errorf("Counts() after reopening = %d, %d, %v; want 1, 2", r, q, err)
	}
	if adm, err := s.Admit(ctx, t0.Add(time.Second), gateJob("a2", "u-a", "g1"), l); err != nil || adm.Refused != storage.RefusedCooldown {
		t.Errorf("Admit during the cooldown after reopening = %+v, %v; want refused by cooldown", adm, err)
	}
	if adm, err := s.Admit(ctx, t0, gateJob("d", "u-d", "g1"), l); err != nil || adm.Position != 3 {
		t.Errorf("Admit after reopening = %+v, %v; want queued at 3", adm, err)
	}
	if _, err := s.Finish(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Promote(ctx, t0, l); err != nil || !cmp.Equal(got, []string{"b"}) {
		t.Errorf("Promote after reopening = %v, %v; want [b]", got, err)
	}
}
