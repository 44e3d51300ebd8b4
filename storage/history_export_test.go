package storage

import (
	"context"
	"time"
)

// Hooks for the History tests in package storage_test, which pass the clock
// that the exported methods read from time.Now.

func BoltAddSongAt(ctx context.Context, b *Bolt, now time.Time, song Song, ttl time.Duration) error {
	return b.addSong(ctx, now, song, ttl)
}

func BoltSongAt(ctx context.Context, b *Bolt, now time.Time, ref string) (Song, error) {
	return b.songAt(ctx, now, ref)
}

func BoltSongsAt(ctx context.Context, b *Bolt, now time.Time, userID string, limit int) ([]Song, error) {
	return b.songsAt(ctx, now, userID, limit)
}

func RedisAddSongAt(ctx context.Context, r *Redis, now time.Time, song Song, ttl time.Duration) error {
	return r.addSong(ctx, now, song, ttl)
}

// RedisHistoryKeys returns the key of ref's song hash, of user's sorted set
// and of the meta hash.
func RedisHistoryKeys(r *Redis, ref, user string) (song, userSongs, meta string) {
	return r.songKeyPrefix() + ref, r.userSongsKey(user), r.metaKey()
}
