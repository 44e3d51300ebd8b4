package storage

import (
	"context"
	"time"
)

// Limits are the fair-use limits Admit applies. Zero (or less) switches a
// limit off; MaxQueued 0 means the queue has no bound.
type Limits struct {
	MaxRunning     int           // jobs generating at Whisul at once, across all processes
	MaxQueued      int           // jobs waiting for a running slot
	UserMaxActive  int           // one user's jobs running or queued
	UserCooldown   time.Duration // least time between two admissions of one user
	UserDailyLimit int           // admissions of one user per UTC day
	GuildMaxActive int           // one guild's jobs running or queued (DMs have no guild and are not counted)
	// GuildDailyLimit is admissions in one guild per UTC day (DMs have no
	// guild and are not counted).
	GuildDailyLimit int
	// DailyLimit is admissions of the whole bot per UTC day, across all
	// processes: the operator's spend cap.
	DailyLimit int
}

// Refusal says which limit refused a job.
type Refusal string

const (
	RefusedPaused      Refusal = "paused" // the server's admins paused the bot
	RefusedUserActive  Refusal = "user_active"
	RefusedCooldown    Refusal = "cooldown"
	RefusedDaily       Refusal = "daily_limit"
	RefusedGuildActive Refusal = "guild_active"
	RefusedGuildDaily  Refusal = "guild_daily_limit"
	RefusedBotDaily    Refusal = "bot_daily_limit"
	RefusedQueueFull   Refusal = "queue_full"
)

// Admission is Admit's verdict.
type Admission struct {
	// Refused names the limit that refused the job; empty when admitted.
	Refused Refusal
	// PauseReason is the admins' reason when Refused is RefusedPaused.
	PauseReason string
	// Limits are the limits Admit applied: the caller's, with the
	// server's overrides in place, so a refusal can name the number.
	Limits Limits
	// RetryAt is when the refusing limit frees by itself (cooldown, daily
	// limit); zero when it frees only as songs end.
	RetryAt time.Time
	// Queued is true when the job waits for a running slot.
	Queued bool
	// Position is the job's 1-based place in the queue when Queued.
	Position int
	// Duplicate is true when the job's id was admitted before, by this
	// process or another, within SeenTTL: the interaction was delivered
	// twice (Discord retried, or two instances behind a balancer got it).
	// Nothing was stored or counted; Queued and Position are the first
	// admission's while its job is pending. The caller answers it without
	// starting a second song.
	Duplicate bool
	// Prompt is the prompt AdmitFromSong read from the song; empty for Admit.
	Prompt string
}

// SeenTTL is how long Admit remembers an admitted id, so that a second
// delivery of one interaction is answered Duplicate even after its job
// finished. An interaction token dies 15 minutes after the interaction,
// and Discord redelivers within seconds, so an hour covers any redelivery
// and clock skew while keeping at most an hour of ids.
const SeenTTL = time.Hour

// Gate applies the fair-use limits atomically across every process that
// shares the backend, and keeps the queue of jobs waiting for a slot.
//
// A job holds its place in the counts from Admit until Finish removes it:
// Finish releases its slot exactly once, whatever the outcome.
type Gate interface {
	// Admit checks job against limits and, in the same atomic step, stores
	// it: running when MaxRunning is 0, or fewer than MaxRunning jobs run
	// and none waits (due at job.NextPollAt, like Save), else queued at the
	// back of the queue, not due. It also records the admission for the
	// user's cooldown and daily count. A refused job is not stored and
	// changes no count. The checks run in the order of the Refusal
	// constants; now decides the cooldown and the UTC day. Admitting a job
	// whose ID already holds a place, or was admitted within SeenTTL,
	// returns Duplicate (with its verdict while it is pending) and changes
	// nothing, so one interaction makes one song however often it arrives.
	// job.ID and job.UserID must not be empty. The job's server's
	// Settings take part in the same step: a paused server refuses
	// (RefusedPaused, with the reason), and its Overrides replace the
	// matching limits; the daily limits count the user's, the server's
	// and the bot's admissions of now's UTC day.
	Admit(ctx context.Context, now time.Time, job Job, limits Limits) (Admission, error)

	// AdmitFromSong is Admit for a song made again from a finished one (the
	// Regenerate button): the job takes the prompt of the history's song
	// ref, read in the same step, so pressing the button costs one round
	// trip; the Admission returns it. It returns an error matching
	// ErrNotFound, and admits and counts nothing, when the history no
	// longer has the song. A Duplicate does not read the song.
	AdmitFromSong(ctx context.Context, now time.Time, job Job, ref string, limits Limits) (Admission, error)

	// Promote moves queued jobs, oldest first, into free running slots
	// (up to limits.MaxRunning; all of them when it is 0) and makes each
	// due at now, so the poll loop claims it next. It returns the ids it
	// moved; of processes promoting at once, each job is moved by one.
	Promote(ctx context.Context, now time.Time, limits Limits) ([]string, error)

	// QueuePosition returns the job's 1-based place in the queue, or 0 when
	// it is not queued. Admit already returns the place at admission; this
	// is for showing it later (queue display) and for the contract suite.
	QueuePosition(ctx context.Context, id string) (int, error)

	// Counts returns how many jobs run and how many wait in the queue.
	Counts(ctx context.Context) (running, queued int, err error)
}
