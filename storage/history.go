package storage

import (
	"context"
	"time"
)

// Song is a finished song kept for /songs and for the Regenerate button.
type Song struct {
	Ref       string // short reference carried by buttons: the job id
	UserID    string // who asked for it
	Prompt    string
	Title     string
	Duration  string // as Whisul wrote it, e.g. "2:47"
	SongURL   string
	ImageURL  string
	CreatedAt time.Time
}

// History keeps finished songs for a while: by reference, so a button
// works after restarts and in any process, and per user, newest first.
type History interface {
	// AddSong keeps song for ttl (0 = for ever), under its Ref and in its
	// user's list, replacing a song with the same Ref. The list keeps the
	// user's newest 100 songs created within ttl of now, so CreatedAt
	// should be about now; a song that leaves the list stays readable by
	// Ref until its ttl ends.
	AddSong(ctx context.Context, song Song, ttl time.Duration) error

	// Song returns the song with this ref, or ErrNotFound once it expired.
	Song(ctx context.Context, ref string) (Song, error)

	// Songs returns up to limit of the user's unexpired songs, newest first.
	Songs(ctx context.Context, userID string, limit int) ([]Song, error)

	// Meta and SetMeta keep small values of the bot's own, such as the hash
	// of the registered command definitions, for ever. Meta returns "" when
	// unset; SetMeta refuses an empty key.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}
