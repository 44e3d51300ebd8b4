package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func job(id string, due time.Time) storage.Job {
	return storage.Job{
		ID:      id,
		Request: storage.Request{InteractionToken: "secret-token-" + id, Prompt: "a song"},
		State:   storage.State{WhisulID: "w-" + id, NextPollAt: due},
	}
}

func TestRedisContract(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return storagetest.NewRedisStore(t)
	}, func(t *testing.T, s storage.Store, id string) {
		key, _, _ := storage.RedisKeys(s.(*storage.Redis), id)
		if err := storage.RedisClient(s.(*storage.Redis)).HSet(t.Context(), key, "v", "99").Err(); err != nil {
			t.Fatalf("HSET %s v 99: %v", key, err)
		}
	})
}

// newRedis returns a store on its own client under prefix, logging to log.
func newRedis(t *testing.T, prefix string, log *bytes.Buffer) *storage.Redis {
	t.Helper()
	opts := storage.RedisOptions{Prefix: prefix, JobTTL: time.Hour}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	storagetest.DeleteKeysAtCleanup(t, prefix)
	return storage.NewRedis(storagetest.NewRedisClient(t), opts)
}

func TestRedisTwoStores(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	a, b := newRedis(t, prefix, nil), newRedis(t, prefix, nil)
	storagetest.ClaimRace(t, []storage.Store{a, b}, 500, 16)
}

func TestRedisLeaseAcrossStores(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	a, b := newRedis(t, prefix, nil), newRedis(t, prefix, nil)
	if err := a.Save(t.Context(), job("1", t0)); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Claim(t.Context(), t0, "test-token", 30*time.Second, 10); len(got) != 1 || err != nil {
		t.Fatalf("a.Claim = %v, %v; want the job", got, err)
	}
	a.Close() // the process holding the lease dies
	if got, err := b.Claim(t.Context(), t0.Add(10*time.Second), "test-token", 30*time.Second, 10); len(got) != 0 || err != nil {
		t.Errorf("b.Claim during a's lease = %v, %v; want nothing", got, err)
	}
	got, err := b.Claim(t.Context(), t0.Add(31*time.Second), "test-token", 30*time.Second, 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 2 {
		t.Errorf("b.Claim after a's lease = %+v, %v; want the job, 2 attempts", got, err)
	}
}

func TestRedisPrefixIsolation(t *testing.T) {
	t.Parallel()
	a := newRedis(t, storagetest.Prefix(t), nil)
	b := newRedis(t, storagetest.Prefix(t), nil)
	if err := a.Save(t.Context(), job("1", t0)); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Count(t.Context()); n != 0 || err != nil {
		t.Errorf("Count under another prefix = %d, %v; want 0", n, err)
	}
	if got, err := b.Claim(t.Context(), t0, "test-token", time.Minute, 10); len(got) != 0 || err != nil {
		t.Errorf("Claim under another prefix = %v, %v; want nothing", got, err)
	}
}

func TestRedisKeyNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, job, due, bad string
	}{
		{"", "songbot:{songbot}:job:42", "songbot:{songbot}:due", "songbot:{songbot}:bad"},
		{"songbot:", "songbot:{songbot}:job:42", "songbot:{songbot}:due", "songbot:{songbot}:bad"},
		{"bot2:", "bot2:{bot2}:job:42", "bot2:{bot2}:due", "bot2:{bot2}:bad"},
		{"a:b::", "a:b::{a:b}:job:42", "a:b::{a:b}:due", "a:b::{a:b}:bad"},
		{"plain", "plain{plain}:job:42", "plain{plain}:due", "plain{plain}:bad"},
	}
	for _, tt := range tests {
		prefix := tt.prefix
		if prefix == "" {
			prefix = storage.DefaultRedisPrefix
		}
		job, due, bad := storage.RedisKeysFor(prefix, "42")
		if job != tt.job || due != tt.due || bad != tt.bad {
			t.Errorf("keys of prefix %q = %s, %s, %s; want %s, %s, %s", tt.prefix, job, due, bad, tt.job, tt.due, tt.bad)
		}
	}
}

// TestRedisLayout checks what an operator sees with redis-cli.
func TestRedisLayout(t *testing.T) {
	t.Parallel()
	s := newRedis(t, storagetest.Prefix(t), nil)
	rc := storage.RedisClient(s)
	ctx := t.Context()
	j := job("42", t0)
	j.Ephemeral = true
	if err := s.Save(ctx, j); err != nil {
		t.Fatal(err)
	}
	key, due, _ := storage.RedisKeys(s, "42")
	fields, err := rc.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	ms := strconv.FormatInt(t0.UnixMilli(), 10)
	for name, want := range map[string]string{
		"v": "1", "whisul_id": "w-42", "interaction_token": "secret-token-42",
		"next_poll_at": ms, "attempts": "0", "ephemeral": "1", "submitted_at": "",
	} {
		if got, ok := fields[name]; !ok || got != want {
			t.Errorf("HGETALL %s: %s = %q (present %v); want %q", key, name, got, ok, want)
		}
	}
	if score, err := rc.ZScore(ctx, due, "42").Result(); err != nil || int64(score) != t0.UnixMilli() {
		t.Errorf("ZSCORE %s 42 = %v, %v; want %d", due, score, err, t0.UnixMilli())
	}
	if ttl, err := rc.PTTL(ctx, key).Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL %s = %v, %v; want about an hour", key, ttl, err)
	}
	if _, err := s.Claim(ctx, t0, "test-token", 30*time.Second, 1); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(30 * time.Second).UnixMilli()
	if score, err := rc.ZScore(ctx, due, "42").Result(); err != nil || int64(score) != end {
		t.Errorf("ZSCORE after Claim = %v, %v; want the lease end %d", score, err, end)
	}
	if got, err := rc.HMGet(ctx, key, "attempts", "next_poll_at").Result(); err != nil ||
		fmt.Sprint(got) != fmt.Sprint([]any{"1", strconv.FormatInt(end, 10)}) {
		t.Errorf("HMGET attempts next_poll_at after Claim = %v, %v; want [1 %d]", got, err, end)
	}
}

func TestRedisTTL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newRedis(t, storagetest.Prefix(t), nil)
	rc := storage.RedisClient(s)
	key, _, _ := storage.RedisKeys(s, "1")
	if err := s.Save(ctx, job("1", t0)); err != nil {
		t.Fatal(err)
	}
	rc.PExpire(ctx, key, time.Minute)
	if err := s.Reschedule(ctx, "1", job("1", t0).State); err != nil {
		t.Fatal(err)
	}
	if ttl := rc.PTTL(ctx, key).Val(); ttl <= 59*time.Minute {
		t.Errorf("PTTL after Reschedule = %v; want it refreshed to about an hour", ttl)
	}

	prefix := storagetest.Prefix(t)
	storagetest.DeleteKeysAtCleanup(t, prefix)
	forever := storage.NewRedis(storagetest.NewRedisClient(t), storage.RedisOptions{Prefix: prefix})
	if err := forever.Save(ctx, job("1", t0)); err != nil {
		t.Fatal(err)
	}
	key, _, _ = storage.RedisKeys(forever, "1")
	if ttl := rc.PTTL(ctx, key).Val(); ttl != -1 {
		t.Errorf("PTTL with JobTTL 0 = %v; want none (-1)", ttl)
	}
}

// TestRedisExpiredJob checks that a due entry whose hash expired is dropped.
func TestRedisExpiredJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newRedis(t, storagetest.Prefix(t), nil)
	if err := s.Save(ctx, job("gone", t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, job("kept", t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	key, _, _ := storage.RedisKeys(s, "gone")
	storage.RedisClient(s).Del(ctx, key) // as its TTL would
	got, err := s.Claim(ctx, t0.Add(time.Minute), "test-token", time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != "kept" {
		t.Errorf("Claim = %v, %v; want only kept", got, err)
	}
	if n, _ := s.Count(ctx); n != 1 {
		t.Errorf("Count after Claim dropped the expired entry = %d; want 1", n)
	}
	if err := s.Reschedule(ctx, "gone", job("gone", t0).State); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Reschedule(gone) = %v; want ErrNotFound", err)
	}
}

func TestRedisDecodeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(ctx context.Context, rc redis.UniversalClient, key string) error
		reason  string
	}{
		{"newer version", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.HSet(ctx, key, "v", "2").Err()
		}, "unknown version 2"},
		{"no version", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.HDel(ctx, key, "v").Err()
		}, `no "v" field`},
		{"version not a number", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.HSet(ctx, key, "v", "secret-token-bad").Err()
		}, `"v" is not a version number`},
		{"bad time", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.HSet(ctx, key, "submitted_at", "yesterday").Err()
		}, `"submitted_at" is not unix milliseconds`},
		{"bad attempts", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.HSet(ctx, key, "attempts", "many").Err()
		}, `"attempts" is not an integer`},
		{"bad ephemeral", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.HSet(ctx, key, "ephemeral", "yes").Err()
		}, `"ephemeral" is not 0 or 1`},
		{"not a hash", func(ctx context.Context, rc redis.UniversalClient, key string) error {
			return rc.Set(ctx, key, "secret-token-bad", 0).Err()
		}, "empty record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var log bytes.Buffer
			s := newRedis(t, storagetest.Prefix(t), &log)
			rc := storage.RedisClient(s)
			for _, j := range []storage.Job{job("good", t0), job("bad", t0)} {
				if err := s.Save(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			key, due, bad := storage.RedisKeys(s, "bad")
			if err := tt.corrupt(ctx, rc, key); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "bad"); !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("Get(bad) = %v; want ErrCorrupt", err)
			}
			got, err := s.Claim(ctx, t0, "test-token", time.Minute, 10)
			if err != nil || len(got) != 1 || got[0].ID != "good" {
				t.Fatalf("Claim = %v, %v; want only good", got, err)
			}
			if n := rc.Exists(ctx, key).Val(); n != 0 {
				t.Errorf("EXISTS %s after the move aside = %d; want 0", key, n)
			}
			if _, err := rc.ZScore(ctx, due, "bad").Result(); !errors.Is(err, redis.Nil) {
				t.Errorf("ZSCORE %s bad after the move aside = %v; want nil", due, err)
			}
			var moved struct {
				Reason  string
				MovedAt int64 `json:"moved_at"`
				Fields  map[string]string
			}
			raw, err := rc.HGet(ctx, bad, "bad").Result()
			if err != nil || json.Unmarshal([]byte(raw), &moved) != nil {
				t.Fatalf("HGET %s bad = %q, %v; want the record as JSON", bad, raw, err)
			}
			if !strings.Contains(moved.Reason, tt.reason) || moved.MovedAt != t0.UnixMilli() {
				t.Errorf("moved record = %+v; want reason %q, moved at %d", moved, tt.reason, t0.UnixMilli())
			}
			if ttl := rc.PTTL(ctx, bad).Val(); ttl < 7*24*time.Hour-time.Minute {
				t.Errorf("PTTL %s = %v; want about 7 days", bad, ttl)
			}
			logged := log.String()
			if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "id=bad") {
				t.Errorf("log = %q; want an error naming id=bad", logged)
			}
			if strings.Contains(logged, "secret-token") {
				t.Errorf("log = %q; it contains the token", logged)
			}
		})
	}
}

// countingHook counts what a client sends: single commands and pipelines.
// countedRedis is a store on the test Redis under a prefix of its own,
// whose client counts the commands and pipelines it sends.
func countedRedis(t *testing.T) (*storage.Redis, *redis.Client, *countingHook) {
	t.Helper()
	client := storagetest.NewRedisClient(t)
	hook := new(countingHook)
	client.AddHook(hook)
	prefix := storagetest.Prefix(t)
	storagetest.DeleteKeysAtCleanup(t, prefix)
	return storage.NewRedis(client, storage.RedisOptions{Prefix: prefix}), client, hook
}

type countingHook struct {
	mu        sync.Mutex
	cmds      []string
	pipelines int
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.cmds = append(h.cmds, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.pipelines++
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (h *countingHook) take() (cmds []string, pipelines int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cmds, pipelines = h.cmds, h.pipelines
	h.cmds, h.pipelines = nil, 0
	return cmds, pipelines
}

// TestRedisRoundTrips checks that a batch costs the same round trips
// whatever its size, also after Redis lost its script cache.
func TestRedisRoundTrips(t *testing.T) {
	// Not parallel: SCRIPT FLUSH affects every test on the server.
	ctx := t.Context()
	s, client, hook := countedRedis(t)
	// prepare empties the script cache, or fills it by running both scripts
	// on nothing, then forgets what that sent.
	prepare := func(flush bool) {
		if flush {
			client.ScriptFlush(ctx)
		} else {
			s.Claim(ctx, t0.Add(-time.Hour), "test-token", time.Minute, 1)
			s.RescheduleMany(ctx, []storage.Job{job("none", t0)})
		}
		hook.take()
	}
	for _, n := range []int{1, 1000} {
		for _, flush := range []bool{false, true} {
			for i := range n {
				if err := s.Save(ctx, job(fmt.Sprintf("%d-%t-%d", n, flush, i), t0)); err != nil {
					t.Fatal(err)
				}
			}
			prepare(flush)
			jobs, err := s.Claim(ctx, t0, "test-token", time.Minute, n)
			if err != nil || len(jobs) != n {
				t.Fatalf("Claim(%d) = %d jobs, %v", n, len(jobs), err)
			}
			cmds, pipes := hook.take()
			want := []string{"evalsha"}
			if flush {
				want = []string{"evalsha", "eval"}
			}
			if fmt.Sprint(cmds) != fmt.Sprint(want) || pipes != 0 {
				t.Errorf("Claim of %d jobs (script flushed %t) sent %v and %d pipelines; want %v", n, flush, cmds, pipes, want)
			}
			prepare(flush)
			for _, err := range s.RescheduleMany(ctx, jobs) {
				if err != nil {
					t.Fatalf("RescheduleMany: %v", err)
				}
			}
			cmds, pipes = hook.take()
			wantCmds, wantPipes := "[]", 1
			if flush {
				wantCmds, wantPipes = "[script]", 2 // SCRIPT LOAD, then the pipeline again
			}
			if fmt.Sprint(cmds) != wantCmds || pipes != wantPipes {
				t.Errorf("RescheduleMany of %d jobs (script flushed %t) sent %v and %d pipelines; want %s and %d",
					n, flush, cmds, pipes, wantCmds, wantPipes)
			}
			for _, j := range jobs {
				s.Finish(ctx, j.ID)
			}
		}
	}
}

// dropHook keeps command number drop of the first pipeline from reaching
// Redis and fails it as a lost connection would, reported as go-redis
// reports a pipeline: the command's own error, and the first failing
// command's from Exec.
type dropHook struct {
	drop int
	done atomic.Bool
}

func (h *dropHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *dropHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *dropHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.drop >= len(cmds) || h.done.Swap(true) {
			return next(ctx, cmds)
		}
		lost := errors.New("injected: connection reset")
		cmds[h.drop].SetErr(lost)
		rest := append(append([]redis.Cmder(nil), cmds[:h.drop]...), cmds[h.drop+1:]...)
		if err := next(ctx, rest); err != nil {
			return err
		}
		return lost
	}
}

// TestRedisRescheduleManyOneFails checks that one failed command in the
// pipeline fails its own job only, and a finished job only its own.
func TestRedisRescheduleManyOneFails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	prefix := storagetest.Prefix(t)
	s := newRedis(t, prefix, nil)
	var jobs []storage.Job
	for i := range 4 {
		jobs = append(jobs, job(fmt.Sprint(i), t0))
		if err := s.Save(ctx, jobs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Finish(ctx, "3"); err != nil {
		t.Fatal(err)
	}
	// Load the script, so that the lost command is the pipeline's first error.
	s.RescheduleMany(ctx, []storage.Job{job("none", t0)})
	client := storagetest.NewRedisClient(t)
	client.AddHook(&dropHook{drop: 1})
	batch := storage.NewRedis(client, storage.RedisOptions{Prefix: prefix, JobTTL: time.Hour})
	later := t0.Add(time.Hour)
	for i := range jobs {
		jobs[i].NextPollAt = later
	}
	errs := batch.RescheduleMany(ctx, jobs)
	for i, err := range errs {
		switch {
		case i == 1 && (err == nil || errors.Is(err, storage.ErrNotFound)):
			t.Errorf("RescheduleMany[1] (command lost) = %v; want its error", err)
		case i == 3 && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("RescheduleMany[3] (finished) = %v; want ErrNotFound", err)
		case (i == 0 || i == 2) && err != nil:
			t.Errorf("RescheduleMany[%d] = %v; want nil, its command succeeded", i, err)
		}
	}
	for i, want := range []time.Time{later, t0, later} {
		if got, err := s.Get(ctx, jobs[i].ID); err != nil || !got.NextPollAt.Equal(want) {
			t.Errorf("Get(%q) after RescheduleMany = due %v, %v; want %v", jobs[i].ID, got.NextPollAt, err, want)
		}
	}
}

func TestOpenRedis(t *testing.T) {
	t.Parallel()
	s, err := storage.OpenRedis(t.Context(), storagetest.RedisURL(t), storage.RedisOptions{Prefix: storagetest.Prefix(t)})
	if err != nil {
		t.Fatalf("OpenRedis(RedisURL) = %v", err)
	}
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

// TestOpenRedisSpeaksRESP2 checks the protocol the store's connections
// negotiate, as the server lists them: RESP2 by default, RESP3 when the
// URL asks for it.
func TestOpenRedisSpeaksRESP2(t *testing.T) {
	t.Parallel()
	admin := storagetest.NewRedisClient(t)
	for _, tt := range []struct{ query, want string }{{"", "resp=2"}, {"&protocol=3", "resp=3"}} {
		name := strings.ReplaceAll(strings.TrimSuffix(storagetest.Prefix(t), ":"), ":", "-")
		u := storagetest.RedisURL(t)
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		s, err := storage.OpenRedis(t.Context(), u+sep+"client_name="+name+tt.query, storage.RedisOptions{Prefix: storagetest.Prefix(t)})
		if err != nil {
			t.Fatalf("OpenRedis(%q) = %v", tt.query, err)
		}
		defer s.Close()
		list, err := admin.ClientList(t.Context()).Result()
		if err != nil {
			t.Fatalf("CLIENT LIST = %v", err)
		}
		var fields []string
		for l := range strings.SplitSeq(list, "\n") {
			if f := strings.Fields(l); slices.Contains(f, "name="+name) {
				fields = f
			}
		}
		if !slices.Contains(fields, tt.want) {
			t.Errorf("OpenRedis with query %q: the server lists the connection as %q; want %s", tt.query, fields, tt.want)
		}
	}
}

func TestOpenRedisErrors(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	tests := []struct {
		url, prefix string
		want        string
	}{
		{"redis://user:hunter2@" + closed + "/0", "", "storage: open redis redis://" + closed + "/0: "},
		{"rediss://:hunter2@" + closed, "", "storage: open redis rediss://" + closed + ": "},
		{"redis://:hunter2@[::1", "", "the URL cannot be parsed"},
		{"redis://:hunt%zzer2@host", "", "the URL cannot be parsed"},
		{"http://user:hunter2@host", "", "invalid URL scheme"},
		{"redis://:hunter2@host/notadb", "", "invalid database number"},
		{"redis://host?password=hunter2", "", "check the options after ?"},
		{"redis://host?dial_timeout=hunter2", "", "check the options after ?"},
		{"redis://host?protocol=hunter2&pool_fifo=hunter2", "", "check the options after ?"},
		{"redis://host?hunter2", "", "check the options after ?"},
		{"http://user:hunter2@host?dial_timeout=1s", "", "invalid URL scheme"},
		{"redis://host/notadb?dial_timeout=hunter2", "", "invalid database number"},
		{"unix://:hunter2@", "", "empty unix socket path"},
		{"redis://" + closed, "bad{prefix}", "must not contain { or }"},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		s, err := storage.OpenRedis(ctx, tt.url, storage.RedisOptions{Prefix: tt.prefix})
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("OpenRedis(%q) = nil error", tt.url)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "storage: open redis") || !strings.Contains(msg, tt.want) {
			t.Errorf("OpenRedis(%q) = %q; want it to start with storage: open redis and contain %q", tt.url, msg, tt.want)
		}
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, "hunt%zz") || strings.Contains(msg, "user@") {
			t.Errorf("OpenRedis(%q) = %q; it leaks the user information or the query", tt.url, msg)
		}
	}
}

func TestNewRedisBadPrefix(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Errorf("NewRedis with prefix %q did not panic", "a{b}")
		}
	}()
	storage.NewRedis(redis.NewClient(&redis.Options{}), storage.RedisOptions{Prefix: "a{b}"})
}
