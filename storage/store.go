package storage

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrNotFound is returned when a job is not in the store, for example because
// another process finished it first.
var ErrNotFound = errors.New("storage: job not found")

// ErrLocked is returned by OpenBolt when another process holds the file.
var ErrLocked = errors.New("storage: database file is in use by another process")

// Store keeps pending jobs outside the process so that restarts and several
// processes sharing one backend lose nothing and deliver nothing twice.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Save stores a new pending job, due at job.NextPollAt. Saving a job
	// whose ID already exists replaces it.
	Save(ctx context.Context, job Job) error

	// Claim returns up to limit jobs due at or before now, oldest due first,
	// and makes each of them due again at now+lease, so no other caller
	// claims them until the lease runs out. A job claimed by a process that
	// died therefore becomes due again by itself. Claim adds one to each
	// returned job's Attempts. Records that cannot be decoded are moved
	// aside and logged; they never fail the call.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Job, error)

	// Reschedule writes job back and makes it due at job.NextPollAt, keeping
	// the attempt count the store holds. It returns ErrNotFound, and writes
	// nothing, when the job was finished meanwhile.
	Reschedule(ctx context.Context, job Job) error

	// RescheduleMany does what Reschedule does for each job, in one round
	// trip (Redis) or one transaction (Bolt) for the whole batch, and
	// returns one error per job, in order: nil where the job was written,
	// wrapping ErrNotFound where it was finished meanwhile. It is the one
	// batch form, for callers that move many jobs at once.
	RescheduleMany(ctx context.Context, jobs []Job) []error

	// Finish removes the job. It reports true only to the one caller that
	// removed it, so the final message is sent once.
	Finish(ctx context.Context, id string) (bool, error)

	// Get returns one job, or ErrNotFound.
	Get(ctx context.Context, id string) (Job, error)

	// Count returns the number of pending jobs.
	Count(ctx context.Context) (int, error)

	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error

	// Close releases the backend.
	Close() error
}

// Job is one pending song: what the poll loop needs to check it at Whisul
// and to edit the user's reply when it ends.
type Job struct {
	// ID identifies the job in the store: the Discord interaction id, which
	// is unique and known before Whisul is called.
	ID string

	WhisulID string // Whisul's job id
	PollURL  string // Whisul's poll_url, relative to its base URL; may be empty

	InteractionToken string // edits the reply for 15 minutes; never log it
	AppID            string
	ChannelID        string
	GuildID          string // empty in DMs
	UserID           string
	Prompt           string
	Ephemeral        bool
	// AttachmentLimit is the largest file, in bytes, the reply may carry
	// (Discord's attachment_size_limit); 0 when Discord did not say.
	AttachmentLimit int64

	// InteractionAt is when Discord created the interaction; its token
	// expires 15 minutes later.
	InteractionAt time.Time
	// SubmittedAt is when Whisul accepted the job.
	SubmittedAt time.Time
	// NextPollAt is when the job is due.
	NextPollAt time.Time

	Attempts   int
	LastStatus string // last Whisul status seen, to log changes only
	LastError  string
}

// LogValue keeps the interaction token out of logs.
func (j Job) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", j.ID),
		slog.String("whisul_id", j.WhisulID),
		slog.Int("attempts", j.Attempts),
	)
}
