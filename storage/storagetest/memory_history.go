package storagetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// Memory's History, on the clock NewMemory was given: a song is gone once
// its TTL has passed, a user's list keeps the newest historyPerUser songs
// created within the TTL of the last AddSong, and the list expires with
// that add, as the Redis sorted set does.

// memSong is a kept song and when it expires (zero: never).
type memSong struct {
	song      storage.Song
	expiresAt time.Time
}

// memList is one user's list: ref -> the creation time it was listed with.
type memList struct {
	refs      map[string]time.Time
	expiresAt time.Time
}

// errSongNotFound reads as the stores' and matches storage.ErrNotFound.
var errSongNotFound = &memError{"song", songNotFound{}}

type songNotFound struct{}

func (songNotFound) Error() string        { return "song not found" }
func (songNotFound) Is(target error) bool { return target == storage.ErrNotFound }

func gone(expiresAt, now time.Time) bool { return !expiresAt.IsZero() && !now.Before(expiresAt) }

// AddSong implements storage.History.
func (m *Memory) AddSong(ctx context.Context, song storage.Song, ttl time.Duration) error {
	if err := m.lock(ctx, "add song"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if err := storage.CheckSong(song); err != nil {
		return err
	}
	now := ms(m.now())
	ttl = max(ttl, 0)
	var expiresAt time.Time
	if ttl > 0 {
		expiresAt = now.Add(ttl)
	}
	if old, ok := m.songs[song.Ref]; ok {
		if l := m.lists[old.song.UserID]; l != nil {
			delete(l.refs, song.Ref)
		}
	}
	song.CreatedAt = ms(song.CreatedAt)
	m.songs[song.Ref] = memSong{song, expiresAt}
	for ref, s := range m.songs {
		if gone(s.expiresAt, now) {
			delete(m.songs, ref)
		}
	}

	l := m.lists[song.UserID]
	if l == nil || gone(l.expiresAt, now) {
		l = &memList{refs: map[string]time.Time{}}
		m.lists[song.UserID] = l
	}
	l.refs[song.Ref] = song.CreatedAt
	l.expiresAt = expiresAt
	for i, e := range m.listed(song.UserID, now) {
		if i >= historyPerUser || (ttl > 0 && e.created.Before(now.Add(-ttl))) {
			delete(l.refs, e.ref)
		}
	}
	return nil
}

type listed struct {
	ref     string
	created time.Time
}

// listed returns the entries of userID's list that point to an unexpired
// song of theirs created when the entry says, newest first (equal times:
// the greater ref first, as both stores order them), and drops the rest.
func (m *Memory) listed(userID string, now time.Time) []listed {
	l := m.lists[userID]
	if l == nil || gone(l.expiresAt, now) {
		return nil
	}
	var out []listed
	for ref, created := range l.refs {
		s, ok := m.songs[ref]
		if !ok || gone(s.expiresAt, now) || s.song.UserID != userID || !s.song.CreatedAt.Equal(created) {
			delete(l.refs, ref)
			continue
		}
		out = append(out, listed{ref, created})
	}
	slices.SortFunc(out, func(a, b listed) int {
		return cmp.Or(b.created.Compare(a.created), strings.Compare(b.ref, a.ref))
	})
	return out
}

// Song implements storage.History.
func (m *Memory) Song(ctx context.Context, ref string) (storage.Song, error) {
	if err := m.lock(ctx, "song"); err != nil {
		return storage.Song{}, err
	}
	defer m.mu.Unlock()
	s, ok := m.songs[ref]
	if !ok || gone(s.expiresAt, ms(m.now())) {
		return storage.Song{}, errSongNotFound
	}
	return s.song, nil
}

// Songs implements storage.History.
func (m *Memory) Songs(ctx context.Context, userID string, limit int) ([]storage.Song, error) {
	if err := m.lock(ctx, "songs"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if limit <= 0 || userID == "" {
		return nil, nil
	}
	entries := m.listed(userID, ms(m.now()))
	songs := make([]storage.Song, 0, min(len(entries), limit))
	for _, e := range entries[:min(len(entries), limit)] {
		songs = append(songs, m.songs[e.ref].song)
	}
	return songs, nil
}

// Meta implements storage.History.
func (m *Memory) Meta(ctx context.Context, key string) (string, error) {
	if err := m.lock(ctx, "meta"); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	return m.meta[key], nil
}

// SetMeta implements storage.History.
func (m *Memory) SetMeta(ctx context.Context, key, value string) error {
	if err := m.lock(ctx, "set meta"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if key == "" {
		return errors.New("storage: set meta: empty key")
	}
	m.meta[key] = value
	return nil
}
