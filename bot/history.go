package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// SongHistory keeps finished songs for /songs and their Regenerate
// buttons. storage.Redis and storage.Bolt implement it.
type SongHistory interface {
	// AddSong keeps song for ttl (0: for ever).
	AddSong(ctx context.Context, song storage.Song, ttl time.Duration) error
	// Song returns the song with ref, or storage.ErrNotFound.
	Song(ctx context.Context, ref string) (storage.Song, error)
	// Songs returns a user's latest songs, newest first.
	Songs(ctx context.Context, userID string, limit int) ([]storage.Song, error)
}

// remember keeps a finished song for /songs and its Regenerate button.
func (b *Bot) remember(ctx context.Context, job storage.Job, r *whisul.Result) {
	song := storage.Song{
		Ref: job.ID, UserID: job.UserID, Prompt: job.Prompt, Title: r.Title,
		Duration: r.DurationText, SongURL: r.SongURL, ImageURL: r.ImageURL, CreatedAt: b.now(),
	}
	if err := b.history.AddSong(ctx, song, b.opts.HistoryTTL); err != nil {
		b.log.Warn("cannot keep the song for /songs and Regenerate", "job_id", job.ID, "err", err)
	}
}

// keptFor says how long songs are remembered, e.g. " (songs are kept for
// 30 days)"; empty when they are kept for ever.
func keptFor(ttl time.Duration) string {
	if ttl <= 0 {
		return ""
	}
	if days := int(ttl.Hours() / 24); days >= 1 {
		return fmt.Sprintf(" (songs are kept for %s)", plural(days, "day"))
	}
	return fmt.Sprintf(" (songs are kept for %v)", ttl)
}
