package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
)

// historyTTL is long enough that no song of the suite expires while it runs.
// Expiry itself depends on each backend's clock (Redis's TTLs, Bolt's
// expires_at), so each backend tests it on its own.
const historyTTL = time.Hour

// historyPerUser is how many songs a user's list keeps, as History promises.
const historyPerUser = 100

// RunHistory runs the contract suite of storage.History as parallel
// subtests. newHistory returns an empty History of the implementation under
// test for each subtest, closed by the test's Cleanup. Songs are created
// around the wall clock, since a store may trim songs older than their TTL.
func RunHistory(t *testing.T, newHistory func(t *testing.T) storage.History) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h storage.History)
	}{
		{"AddGet", testHistoryAddGet},
		{"SongMissing", testHistorySongMissing},
		{"AddInvalid", testHistoryAddInvalid},
		{"AddReplaces", testHistoryAddReplaces},
		{"NoTTL", testHistoryNoTTL},
		{"NewestFirst", testHistoryNewestFirst},
		{"Limit", testHistoryLimit},
		{"OnlyCaller", testHistoryOnlyCaller},
		{"KeepsNewest", testHistoryKeepsNewest},
		{"AddConcurrent", testHistoryAddConcurrent},
		{"Meta", testHistoryMeta},
		{"Cancelled", testHistoryCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newHistory(t))
		})
	}
}

// historyNow is a time the stores keep exactly: milliseconds, UTC.
func historyNow() time.Time { return time.Now().Truncate(time.Millisecond).UTC() }

// NewSong returns a song of user with every field set, created at created.
func NewSong(ref, user string, created time.Time) storage.Song {
	return storage.Song{
		Ref:       ref,
		UserID:    user,
		Prompt:    "a sea shanty about " + ref + ", with *markdown* and <@123>",
		Title:     "Song " + ref,
		Duration:  "2:47",
		SongURL:   "https://cdn.whisul.example/songs/" + ref + ".mp3",
		ImageURL:  "https://cdn.whisul.example/covers/" + ref + ".png",
		CreatedAt: created,
	}
}

func mustAddSong(t *testing.T, h storage.History, song storage.Song, ttl time.Duration) {
	t.Helper()
	if err := h.AddSong(t.Context(), song, ttl); err != nil {
		t.Fatalf("AddSong(%q, %v) = %v", song.Ref, ttl, err)
	}
}

// addSongs adds n songs of user, refs prefix0..prefix<n-1>, each a second
// older than the one before, and returns them newest first.
func addSongs(t *testing.T, h storage.History, user, prefix string, n int) []storage.Song {
	t.Helper()
	now := historyNow()
	songs := make([]storage.Song, n)
	for i := range n {
		songs[i] = NewSong(fmt.Sprintf("%s%d", prefix, i), user, now.Add(-time.Duration(i)*time.Second))
	}
	// Add them out of order, so the order comes from the store.
	for _, i := range shuffled(n) {
		mustAddSong(t, h, songs[i], historyTTL)
	}
	return songs
}

// shuffled returns 0..n-1 in a fixed order that is neither sorted nor
// reversed.
func shuffled(n int) []int {
	out := make([]int, 0, n)
	for i := 0; i < n; i += 2 {
		out = append(out, i)
	}
	for i := n - 1 - n%2; i > 0; i -= 2 {
		out = append(out, i)
	}
	return out
}

func refs(songs []storage.Song) []string {
	out := make([]string, len(songs))
	for i, s := range songs {
		out[i] = s.Ref
	}
	return out
}

func mustSongs(t *testing.T, h storage.History, user string, limit int) []storage.Song {
	t.Helper()
	got, err := h.Songs(t.Context(), user, limit)
	if err != nil {
		t.Fatalf("Songs(%q, %d) = %v", user, limit, err)
	}
	return got
}

func testHistoryAddGet(t *testing.T, h storage.History) {
	want := NewSong("1001", "u1", historyNow())
	mustAddSong(t, h, want, historyTTL)
	got, err := h.Song(t.Context(), want.Ref)
	if err != nil {
		t.Fatalf("Song(%q) = %v", want.Ref, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Song(%q) mismatch (-want +got):\n%s", want.Ref, diff)
	}
	if diff := cmp.Diff([]storage.Song{want}, mustSongs(t, h, "u1", 10)); diff != "" {
		t.Errorf("Songs(u1, 10) mismatch (-want +got):\n%s", diff)
	}
}

func testHistorySongMissing(t *testing.T, h storage.History) {
	_, err := h.Song(t.Context(), "nope")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Song(nope) = %v; want ErrNotFound", err)
	}
	if got := mustSongs(t, h, "nobody", 10); len(got) != 0 {
		t.Errorf("Songs(nobody, 10) = %v; want none", refs(got))
	}
}

func testHistoryAddInvalid(t *testing.T, h storage.History) {
	for _, song := range []storage.Song{
		NewSong("", "u1", historyNow()),
		NewSong("1", "", historyNow()),
	} {
		if err := h.AddSong(t.Context(), song, historyTTL); err == nil {
			t.Errorf("AddSong(ref %q, user %q) = nil; want an error", song.Ref, song.UserID)
		}
	}
}

func testHistoryAddReplaces(t *testing.T, h storage.History) {
	now := historyNow()
	first := NewSong("1", "u1", now.Add(-time.Minute))
	mustAddSong(t, h, first, historyTTL)
	mustAddSong(t, h, NewSong("2", "u1", now.Add(-30*time.Second)), historyTTL)
	again := first
	again.Title, again.CreatedAt = "Another take", now
	mustAddSong(t, h, again, historyTTL)

	if got, err := h.Song(t.Context(), "1"); err != nil || got.Title != again.Title {
		t.Errorf("Song(1) = %q, %v; want the second AddSong's title %q", got.Title, err, again.Title)
	}
	if got := refs(mustSongs(t, h, "u1", 10)); !cmp.Equal(got, []string{"1", "2"}) {
		t.Errorf("Songs(u1, 10) = %q; want [1 2]: the song once, at its new time", got)
	}
}

func testHistoryNoTTL(t *testing.T, h storage.History) {
	song := NewSong("1", "u1", historyNow())
	mustAddSong(t, h, song, 0)
	if _, err := h.Song(t.Context(), "1"); err != nil {
		t.Errorf("Song(1) after AddSong with no TTL = %v", err)
	}
	if got := refs(mustSongs(t, h, "u1", 10)); !cmp.Equal(got, []string{"1"}) {
		t.Errorf("Songs(u1, 10) = %q; want [1]", got)
	}
}

func testHistoryNewestFirst(t *testing.T, h storage.History) {
	want := addSongs(t, h, "u1", "s", 7)
	if diff := cmp.Diff(want, mustSongs(t, h, "u1", 10)); diff != "" {
		t.Errorf("Songs(u1, 10) mismatch, want newest first (-want +got):\n%s", diff)
	}
}

func testHistoryLimit(t *testing.T, h storage.History) {
	all := addSongs(t, h, "u1", "s", 12)
	for _, tt := range []struct {
		limit int
		want  []storage.Song
	}{
		{10, all[:10]},
		{1, all[:1]},
		{12, all},
		{50, all},
		{0, nil},
		{-1, nil},
	} {
		got, err := h.Songs(t.Context(), "u1", tt.limit)
		if err != nil {
			t.Errorf("Songs(u1, %d) = %v", tt.limit, err)
			continue
		}
		if diff := cmp.Diff(refs(tt.want), refs(got)); diff != "" {
			t.Errorf("Songs(u1, %d) mismatch (-want +got):\n%s", tt.limit, diff)
		}
	}
}

func testHistoryOnlyCaller(t *testing.T, h storage.History) {
	a := addSongs(t, h, "ua", "a", 3)
	b := addSongs(t, h, "ub", "b", 2)
	if got := refs(mustSongs(t, h, "ua", 10)); !cmp.Equal(got, refs(a)) {
		t.Errorf("Songs(ua, 10) = %q; want %q", got, refs(a))
	}
	if got := refs(mustSongs(t, h, "ub", 10)); !cmp.Equal(got, refs(b)) {
		t.Errorf("Songs(ub, 10) = %q; want %q", got, refs(b))
	}
	if got := mustSongs(t, h, "u", 10); len(got) != 0 {
		t.Errorf("Songs(u, 10) = %q; want none: a prefix of a user id is another user", refs(got))
	}
}

func testHistoryKeepsNewest(t *testing.T, h storage.History) {
	all := addSongs(t, h, "u1", "s", historyPerUser+5)
	got := mustSongs(t, h, "u1", 2*historyPerUser)
	if diff := cmp.Diff(refs(all[:historyPerUser]), refs(got)); diff != "" {
		t.Errorf("Songs(u1, %d) after %d songs mismatch (-want +got):\n%s", 2*historyPerUser, len(all), diff)
	}
	// A song past the list's cap still answers its Regenerate button.
	oldest := all[len(all)-1]
	if _, err := h.Song(t.Context(), oldest.Ref); err != nil {
		t.Errorf("Song(%q), dropped from the list by the cap = %v; want it until it expires", oldest.Ref, err)
	}
}

func testHistoryAddConcurrent(t *testing.T, h storage.History) {
	const n = 20
	now := historyNow()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			song := NewSong(fmt.Sprint(i), "u1", now.Add(time.Duration(i)*time.Millisecond))
			if err := h.AddSong(t.Context(), song, historyTTL); err != nil {
				t.Errorf("AddSong(%d) = %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := mustSongs(t, h, "u1", 2*n); len(got) != n {
		t.Errorf("Songs(u1, %d) after %d concurrent adds = %d songs; want %d", 2*n, n, len(got), n)
	}
}

func testHistoryMeta(t *testing.T, h storage.History) {
	ctx := t.Context()
	if v, err := h.Meta(ctx, "commands_hash"); v != "" || err != nil {
		t.Errorf("Meta(commands_hash) before SetMeta = %q, %v; want \"\", nil", v, err)
	}
	for _, v := range []string{"sha256:abc", "sha256:def"} {
		if err := h.SetMeta(ctx, "commands_hash", v); err != nil {
			t.Fatalf("SetMeta(commands_hash, %q) = %v", v, err)
		}
		if got, err := h.Meta(ctx, "commands_hash"); got != v || err != nil {
			t.Errorf("Meta(commands_hash) after SetMeta(%q) = %q, %v", v, got, err)
		}
	}
	if v, err := h.Meta(ctx, "other"); v != "" || err != nil {
		t.Errorf("Meta(other) = %q, %v; want \"\", nil", v, err)
	}
	if err := h.SetMeta(ctx, "", "x"); err == nil {
		t.Errorf("SetMeta(\"\", x) = nil; want an error")
	}
}

func testHistoryCancelled(t *testing.T, h storage.History) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	song := NewSong("1", "u1", historyNow())
	if err := h.AddSong(ctx, song, historyTTL); !errors.Is(err, context.Canceled) {
		t.Errorf("AddSong(cancelled) = %v; want context.Canceled", err)
	}
	if _, err := h.Song(ctx, "1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Song(cancelled) = %v; want context.Canceled", err)
	}
	if _, err := h.Songs(ctx, "u1", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Songs(cancelled) = %v; want context.Canceled", err)
	}
	if _, err := h.Meta(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Meta(cancelled) = %v; want context.Canceled", err)
	}
	if err := h.SetMeta(ctx, "k", "v"); !errors.Is(err, context.Canceled) {
		t.Errorf("SetMeta(cancelled) = %v; want context.Canceled", err)
	}
	// Nothing was written.
	if _, err := h.Song(t.Context(), "1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Song(1) after a cancelled AddSong = %v; want ErrNotFound", err)
	}
}
