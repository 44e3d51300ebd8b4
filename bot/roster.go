package bot

import (
	"context"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// Roster is what servers and users see of the songs on the way, and how a
// queued song leaves the queue. storage.Redis and storage.Bolt implement
// it.
type Roster interface {
	// Cancel takes a queued job out of the queue, atomically with
	// Promote; storage.ErrNotQueued when it runs now.
	Cancel(ctx context.Context, now time.Time, id string) (storage.Job, error)
	// GuildJobs and UserJobs return a server's or a user's running and
	// queued jobs, running first.
	GuildJobs(ctx context.Context, guildID string) ([]storage.ActiveJob, error)
	UserJobs(ctx context.Context, userID string) ([]storage.ActiveJob, error)
	// Usage returns today's counts of the user, the server and the bot,
	// and the user's cooldown.
	Usage(ctx context.Context, now time.Time, userID, guildID string) (storage.Usage, error)
	// Queue returns the queued jobs in order (limit 0: all).
	Queue(ctx context.Context, limit int) ([]storage.ActiveJob, error)
	// ClaimPositionEdit reports true to the one caller that should edit a
	// queued reply to show position.
	ClaimPositionEdit(ctx context.Context, now time.Time, id string, position int, every time.Duration) (bool, error)
}
