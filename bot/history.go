package bot

import (
	"context"
	"time"

	"github.com/songbot-dev/songbot/bot/i18n"
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

// keptText is the message forever when songs are kept for ever, else
// kept, which says for how long ("songs are kept for 30 days").
func keptText(tr *i18n.Printer, forever, kept i18n.ID, ttl time.Duration) string {
	if ttl <= 0 {
		return tr.Text(forever)
	}
	return tr.Format(kept, i18n.Args{"Kept": keptFor(tr, ttl)})
}

// keptFor is ttl in whole days, hours or minutes, the largest that fits.
func keptFor(tr *i18n.Printer, ttl time.Duration) string {
	switch {
	case ttl >= 24*time.Hour:
		return tr.Plural(i18n.Days, int(ttl.Hours()/24), nil)
	case ttl >= time.Hour:
		return tr.Plural(i18n.Hours, int(ttl.Hours()), nil)
	}
	return tr.Plural(i18n.Minutes, max(int(ttl.Minutes()), 1), nil)
}
