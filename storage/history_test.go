package storage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func TestRedisHistoryContract(t *testing.T) {
	t.Parallel()
	storagetest.RunHistory(t, func(t *testing.T) storage.History {
		return storagetest.NewRedisStore(t)
	})
}

func TestBoltHistoryContract(t *testing.T) {
	t.Parallel()
	storagetest.RunHistory(t, func(t *testing.T) storage.History {
		return openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	})
}

func songRefs(songs []storage.Song) []string {
	out := make([]string, len(songs))
	for i, s := range songs {
		out[i] = s.Ref
	}
	return out
}

func TestRedisHistoryKeys(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	s := newRedis(t, prefix, nil)
	client := storage.RedisClient(s)
	ctx := t.Context()
	created := time.Now().Truncate(time.Millisecond)
	if err := s.AddSong(ctx, storagetest.NewSong("42", "u7", created), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "commands_hash", "abc"); err != nil {
		t.Fatal(err)
	}

	// The layout the package documentation promises an operator.
	base := prefix + "{" + strings.TrimRight(prefix, ":") + "}:"
	songKey, setKey, metaKey := base+"song:42", base+"user:u7:songs", base+"meta"
	if a, b, c := storage.RedisHistoryKeys(s, "42", "u7"); a != songKey || b != setKey || c != metaKey {
		t.Errorf("RedisHistoryKeys = %q, %q, %q; want %q, %q, %q", a, b, c, songKey, setKey, metaKey)
	}
	if v, err := client.HGet(ctx, songKey, "v").Result(); v != "1" || err != nil {
		t.Errorf("HGET %s v = %q, %v; want 1", songKey, v, err)
	}
	if v, err := client.HGet(ctx, songKey, "created_at").Result(); err != nil || v != strconv.FormatInt(created.UnixMilli(), 10) {
		t.Errorf("HGET %s created_at = %q, %v; want %d", songKey, v, err, created.UnixMilli())
	}
	if score, err := client.ZScore(ctx, setKey, "42").Result(); err != nil || int64(score) != created.UnixMilli() {
		t.Errorf("ZSCORE %s 42 = %v, %v; want %d", setKey, score, err, created.UnixMilli())
	}
	for _, key := range []string{songKey, setKey} {
		if ttl, err := client.PTTL(ctx, key).Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("PTTL %s = %v, %v; want about an hour", key, ttl, err)
		}
	}
	if ttl, err := client.PTTL(ctx, metaKey).Result(); err != nil || ttl != -1 {
		t.Errorf("PTTL %s = %v, %v; want -1 (no expiry)", metaKey, ttl, err)
	}
	if v, err := client.HGet(ctx, metaKey, "commands_hash").Result(); v != "abc" || err != nil {
		t.Errorf("HGET %s commands_hash = %q, %v; want abc", metaKey, v, err)
	}
}

func TestRedisHistoryNoTTL(t *testing.T) {
	t.Parallel()
	s := storagetest.NewRedisStore(t)
	client := storage.RedisClient(s)
	ctx := t.Context()
	// A later add without a TTL makes the user's set permanent again.
	if err := s.AddSong(ctx, storagetest.NewSong("1", "u1", time.Now()), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSong(ctx, storagetest.NewSong("2", "u1", time.Now()), 0); err != nil {
		t.Fatal(err)
	}
	songKey, setKey, _ := storage.RedisHistoryKeys(s, "2", "u1")
	for _, key := range []string{songKey, setKey} {
		if ttl, err := client.PTTL(ctx, key).Result(); err != nil || ttl != -1 {
			t.Errorf("PTTL %s after AddSong with no TTL = %v, %v; want -1", key, ttl, err)
		}
	}
}

// TestRedisHistoryExpired expires song hashes with PEXPIREAT in the past,
// which Redis treats exactly as a TTL that ran out.
func TestRedisHistoryExpired(t *testing.T) {
	t.Parallel()
	s := storagetest.NewRedisStore(t)
	client := storage.RedisClient(s)
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	for i, ref := range []string{"1", "2", "3", "4"} {
		song := storagetest.NewSong(ref, "u1", now.Add(time.Duration(i)*time.Second))
		if err := s.AddSong(ctx, song, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []string{"4", "2"} {
		key, _, _ := storage.RedisHistoryKeys(s, ref, "u1")
		if err := client.PExpireAt(ctx, key, time.Unix(1, 0)).Err(); err != nil {
			t.Fatalf("PEXPIREAT %s: %v", key, err)
		}
	}
	if _, err := s.Song(ctx, "4"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Song(4) after its hash expired = %v; want ErrNotFound", err)
	}
	got, err := s.Songs(ctx, "u1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"3", "1"}; !cmp.Equal(songRefs(got), want) {
		t.Errorf("Songs(u1, 2) = %q; want %q", songRefs(got), want)
	}
	_, setKey, _ := storage.RedisHistoryKeys(s, "", "u1")
	if members, err := client.ZRevRange(ctx, setKey, 0, -1).Result(); err != nil || !cmp.Equal(members, []string{"3", "1"}) {
		t.Errorf("ZREVRANGE %s after Songs = %q, %v; want the expired refs removed", setKey, members, err)
	}
}

func TestRedisHistoryTrimsOld(t *testing.T) {
	t.Parallel()
	s := storagetest.NewRedisStore(t)
	client := storage.RedisClient(s)
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	old := storagetest.NewSong("old", "u1", now.Add(-2*time.Hour))
	if err := storage.RedisAddSongAt(ctx, s, old.CreatedAt, old, 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := storage.RedisAddSongAt(ctx, s, now, storagetest.NewSong("new", "u1", now), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, setKey, _ := storage.RedisHistoryKeys(s, "", "u1")
	if members, err := client.ZRange(ctx, setKey, 0, -1).Result(); err != nil || !cmp.Equal(members, []string{"new"}) {
		t.Errorf("ZRANGE %s = %q, %v; want [new]: a song created more than the TTL ago leaves the list", setKey, members, err)
	}
	if _, err := s.Song(ctx, "old"); err != nil {
		t.Errorf("Song(old) = %v; want it until its own TTL ends", err)
	}
}

func TestRedisHistoryCorrupt(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	s := newRedis(t, storagetest.Prefix(t), &log)
	client := storage.RedisClient(s)
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	for i, ref := range []string{"1", "2", "3", "4"} {
		if err := s.AddSong(ctx, storagetest.NewSong(ref, "u1", now.Add(time.Duration(i)*time.Second)), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	newer, _, _ := storage.RedisHistoryKeys(s, "4", "u1")
	if err := client.HSet(ctx, newer, "v", "99").Err(); err != nil {
		t.Fatal(err)
	}
	notHash, _, _ := storage.RedisHistoryKeys(s, "3", "u1")
	if err := client.Set(ctx, notHash, "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"4", "3"} {
		if _, err := s.Song(ctx, ref); !errors.Is(err, storage.ErrCorrupt) {
			t.Errorf("Song(%s) = %v; want ErrCorrupt", ref, err)
		}
	}
	got, err := s.Songs(ctx, "u1", 2)
	if err != nil {
		t.Fatalf("Songs(u1, 2) = %v; want the readable songs", err)
	}
	if want := []string{"2", "1"}; !cmp.Equal(songRefs(got), want) {
		t.Errorf("Songs(u1, 2) = %q; want %q: damaged songs are left out and do not count", songRefs(got), want)
	}
	if n := strings.Count(log.String(), "undecodable song"); n != 2 {
		t.Errorf("log has %d undecodable song records; want 2:\n%s", n, log.String())
	}
}

func TestRedisHistoryTwoStores(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	a, b := newRedis(t, prefix, nil), newRedis(t, prefix, nil)
	want := storagetest.NewSong("1", "u1", time.Now().Truncate(time.Millisecond).UTC())
	if err := a.AddSong(t.Context(), want, time.Hour); err != nil {
		t.Fatal(err)
	}
	a.Close() // the process that finished the song is gone
	got, err := b.Song(t.Context(), "1")
	if err != nil {
		t.Fatalf("Song(1) from another store = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Song(1) from another store mismatch (-want +got):\n%s", diff)
	}
}

func TestBoltHistoryExpiry(t *testing.T) {
	t.Parallel()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	ctx := t.Context()
	if err := storage.BoltAddSongAt(ctx, s, t0, storagetest.NewSong("1", "u1", t0), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := storage.BoltAddSongAt(ctx, s, t0, storagetest.NewSong("2", "u1", t0.Add(time.Second)), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at    time.Duration
		songs []string
	}{
		{0, []string{"2", "1"}},
		{time.Hour - time.Millisecond, []string{"2", "1"}},
		{time.Hour, []string{"2"}},
		{2 * time.Hour, []string{}},
	} {
		now := t0.Add(tt.at)
		got, err := storage.BoltSongsAt(ctx, s, now, "u1", 10)
		if err != nil || !cmp.Equal(songRefs(got), tt.songs) {
			t.Errorf("Songs(u1, 10) at t0+%v = %q, %v; want %q", tt.at, songRefs(got), err, tt.songs)
		}
		_, err = storage.BoltSongAt(ctx, s, now, "1")
		if gone := errors.Is(err, storage.ErrNotFound); gone != (tt.at >= time.Hour) {
			t.Errorf("Song(1) at t0+%v = %v; want ErrNotFound only from t0+1h", tt.at, err)
		}
	}
}

func TestBoltHistoryNoTTL(t *testing.T) {
	t.Parallel()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	ctx := t.Context()
	if err := storage.BoltAddSongAt(ctx, s, t0, storagetest.NewSong("1", "u1", t0), 0); err != nil {
		t.Fatal(err)
	}
	later := t0.AddDate(100, 0, 0)
	if _, err := storage.BoltSongAt(ctx, s, later, "1"); err != nil {
		t.Errorf("Song(1) a century after AddSong with no TTL = %v", err)
	}
	if got, err := storage.BoltSongsAt(ctx, s, later, "u1", 10); err != nil || len(got) != 1 {
		t.Errorf("Songs(u1, 10) a century later = %q, %v; want [1]", songRefs(got), err)
	}
	if n := storage.BoltLen(s, "songs_expiry"); n != 0 {
		t.Errorf("songs_expiry has %d keys; want none for a song that never expires", n)
	}
}

func TestBoltHistoryPrunes(t *testing.T) {
	t.Parallel()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	ctx := t.Context()
	for _, song := range []storage.Song{
		storagetest.NewSong("1", "u1", t0),
		storagetest.NewSong("2", "u1", t0.Add(time.Second)),
		storagetest.NewSong("3", "u2", t0),
	} {
		if err := storage.BoltAddSongAt(ctx, s, t0, song, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// Another user's add, after the others expired, deletes them.
	later := t0.Add(2 * time.Hour)
	if err := storage.BoltAddSongAt(ctx, s, later, storagetest.NewSong("4", "u3", later), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{"songs", "user_songs", "songs_expiry"} {
		if n := storage.BoltLen(s, bucket); n != 1 {
			t.Errorf("bucket %s has %d keys after the prune; want 1", bucket, n)
		}
	}
}

func TestBoltHistoryTrimsOld(t *testing.T) {
	t.Parallel()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	ctx := t.Context()
	if err := storage.BoltAddSongAt(ctx, s, t0, storagetest.NewSong("old", "u1", t0), 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(2 * time.Hour)
	if err := storage.BoltAddSongAt(ctx, s, now, storagetest.NewSong("new", "u1", now), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := storage.BoltSongsAt(ctx, s, now, "u1", 10); err != nil || !cmp.Equal(songRefs(got), []string{"new"}) {
		t.Errorf("Songs(u1, 10) = %q, %v; want [new]: a song created more than the TTL ago leaves the list, as in Redis", songRefs(got), err)
	}
	if _, err := storage.BoltSongAt(ctx, s, now, "old"); err != nil {
		t.Errorf("Song(old) = %v; want it until its own TTL ends", err)
	}
}

func TestBoltHistoryRecord(t *testing.T) {
	t.Parallel()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	if err := storage.BoltAddSongAt(t.Context(), s, t0, storagetest.NewSong("1", "u1", t0), time.Hour); err != nil {
		t.Fatal(err)
	}
	var rec map[string]string
	if err := json.Unmarshal(storage.BoltGet(s, "songs", "1"), &rec); err != nil {
		t.Fatalf("songs[1] is not a JSON object of strings: %v", err)
	}
	if rec["v"] != "1" || rec["expires_at"] != strconv.FormatInt(t0.Add(time.Hour).UnixMilli(), 10) || rec["user_id"] != "u1" {
		t.Errorf("songs[1] = %v; want v 1, user_id u1, expires_at %d", rec, t0.Add(time.Hour).UnixMilli())
	}
}

func TestBoltHistoryCorrupt(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), &log)
	ctx := t.Context()
	for i, ref := range []string{"1", "2", "3", "4"} {
		song := storagetest.NewSong(ref, "u1", t0.Add(time.Duration(i)*time.Second))
		if err := storage.BoltAddSongAt(ctx, s, t0, song, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.BoltPut(s, "songs", "4", []byte(`{"v":"99"}`)); err != nil {
		t.Fatal(err)
	}
	if err := storage.BoltPut(s, "songs", "3", []byte(`{"v":`)); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"4", "3"} {
		if _, err := storage.BoltSongAt(ctx, s, t0, ref); !errors.Is(err, storage.ErrCorrupt) {
			t.Errorf("Song(%s) = %v; want ErrCorrupt", ref, err)
		}
	}
	got, err := storage.BoltSongsAt(ctx, s, t0, "u1", 2)
	if err != nil {
		t.Fatalf("Songs(u1, 2) = %v; want the readable songs", err)
	}
	if want := []string{"2", "1"}; !cmp.Equal(songRefs(got), want) {
		t.Errorf("Songs(u1, 2) = %q; want %q: damaged songs are left out and do not count", songRefs(got), want)
	}
	if n := strings.Count(log.String(), "undecodable song"); n != 2 {
		t.Errorf("log has %d undecodable song records; want 2:\n%s", n, log.String())
	}
	// A damaged record can be replaced.
	if err := storage.BoltAddSongAt(ctx, s, t0, storagetest.NewSong("4", "u1", t0.Add(5*time.Second)), time.Hour); err != nil {
		t.Errorf("AddSong over a damaged record = %v", err)
	}
}

func TestBoltHistoryReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "songbot.db")
	s, err := storage.OpenBolt(path, storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := storagetest.NewSong("1", "u1", time.Now().Truncate(time.Millisecond).UTC())
	if err := s.AddSong(t.Context(), want, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(t.Context(), "commands_hash", "abc"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openBolt(t, path, nil) // the bot restarted
	got, err := s.Song(t.Context(), "1")
	if err != nil {
		t.Fatalf("Song(1) after reopening = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Song(1) after reopening mismatch (-want +got):\n%s", diff)
	}
	if v, err := s.Meta(t.Context(), "commands_hash"); v != "abc" || err != nil {
		t.Errorf("Meta(commands_hash) after reopening = %q, %v; want abc", v, err)
	}
}
