package storage

import (
	"context"
	"errors"
	"time"
)

// GuildSettings are what a server's admins set with /songadmin. The zero
// value is a server nobody configured: not paused, no showcase, the
// operator's limits.
type GuildSettings struct {
	Paused      bool
	PauseReason string // what the admin said when pausing; may be empty
	// ShowcaseChannelID is the channel every finished, non-private song
	// of the server is also posted to; empty when off.
	ShowcaseChannelID string
	// Overrides replace the operator's per-user and per-server limits in
	// this server.
	Overrides Overrides
}

// Overrides are a server's own values for the limits that concern only
// that server. A nil field keeps the operator's value; a value of 0
// switches the limit off in the server. The global limits (MaxRunning,
// MaxQueued, DailyLimit) have no field: no server can change them.
type Overrides struct {
	UserMaxActive   *int
	UserCooldown    *time.Duration
	UserDailyLimit  *int
	GuildMaxActive  *int
	GuildDailyLimit *int
}

// Apply returns l with o's values in place of the operator's.
func (o Overrides) Apply(l Limits) Limits {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&l.UserMaxActive, o.UserMaxActive)
	set(&l.UserDailyLimit, o.UserDailyLimit)
	set(&l.GuildMaxActive, o.GuildMaxActive)
	set(&l.GuildDailyLimit, o.GuildDailyLimit)
	if o.UserCooldown != nil {
		l.UserCooldown = *o.UserCooldown
	}
	return l
}

// IsZero reports whether no override is set.
func (o Overrides) IsZero() bool { return o == Overrides{} }

// Settings keeps each server's /songadmin settings. Admit reads them in its
// own atomic step, so a change applies to the next admission in every
// process sharing the store.
type Settings interface {
	// GuildSettings returns the server's settings: the zero value when
	// nothing was set.
	GuildSettings(ctx context.Context, guildID string) (GuildSettings, error)
	// UpdateGuildSettings applies change to the server's settings in one
	// atomic read-modify-write (two admins changing different settings at
	// once both land) and returns the settings as stored.
	UpdateGuildSettings(ctx context.Context, guildID string, change func(*GuildSettings)) (GuildSettings, error)
}

// ErrNotQueued is returned by Cancel for a job that is no longer queued:
// it runs (Promote moved it first) and Whisul cannot cancel it.
var ErrNotQueued = errors.New("storage: the job is no longer queued")

// ActiveJob is a job that holds a place: running, or queued at Position.
type ActiveJob struct {
	Job
	Queued   bool
	Position int // 1-based place in the queue when Queued
	// ShownPosition is the place the user's reply last showed (set at
	// admission and by ClaimPositionEdit); 0 when none was shown.
	ShownPosition int
}

// Usage is what one user has used of the daily limits on now's UTC day.
type Usage struct {
	UserToday  int // admissions of the user
	GuildToday int // admissions in the guild (0 without a guild)
	BotToday   int // admissions of the whole bot
	// CooldownUntil is when the user's cooldown ends; zero when it ended.
	CooldownUntil time.Time
}

// Roster answers what servers and users see of the queue: who has what
// running or queued, and what is left of their limits. It also lets a
// queued job leave the queue.
type Roster interface {
	// Cancel removes a queued job in one atomic step with Promote, so of
	// a cancel and a promotion racing for one job exactly one wins. The
	// job's place in the counts is freed and its admission taken off the
	// user's, the server's and the bot's daily counts (the cooldown
	// stays). It returns the job as it was, ErrNotQueued when the job runs
	// now, or ErrNotFound when it is gone.
	Cancel(ctx context.Context, now time.Time, id string) (Job, error)

	// GuildJobs returns the server's running and queued jobs, running
	// first, then the queue in order.
	GuildJobs(ctx context.Context, guildID string) ([]ActiveJob, error)
	// UserJobs returns the user's running and queued jobs, in the same
	// order.
	UserJobs(ctx context.Context, userID string) ([]ActiveJob, error)
	// Usage returns the user's, the server's (guildID may be empty) and
	// the bot's counts of now's UTC day, and the user's cooldown.
	Usage(ctx context.Context, now time.Time, userID, guildID string) (Usage, error)

	// Queue returns up to limit queued jobs in order (0 = all).
	Queue(ctx context.Context, limit int) ([]ActiveJob, error)
	// ClaimPositionEdit reports true to exactly one caller, of all
	// processes, when the job is still queued, position differs from the
	// place its reply last showed, and that was shown at least every ago;
	// it then records position as shown at now. The caller that gets true
	// edits the reply.
	ClaimPositionEdit(ctx context.Context, now time.Time, id string, position int, every time.Duration) (bool, error)
}
