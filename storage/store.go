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

// ErrLeaseLost is returned by Reschedule when another process holds the
// job's lease now: its write would clobber that process's work.
var ErrLeaseLost = errors.New("storage: the job's lease is held by another process")

// ErrLocked is returned by OpenBolt when another process holds the file.
var ErrLocked = errors.New("storage: database file is in use by another process")

// Store keeps pending jobs outside the process so that restarts and several
// processes sharing one backend lose nothing and deliver nothing twice.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Save stores a new pending job, due at job.NextPollAt, bypassing the
	// limits Admit applies. Saving a job whose ID already exists replaces
	// it. The bot admits jobs with Admit; Save is for tools and tests, and
	// the contract suite checks it.
	Save(ctx context.Context, job Job) error

	// Claim returns up to limit jobs due at or before now, oldest due first,
	// leased to token: each is due again at now+lease, so no other caller
	// claims it until the lease runs out, and a job claimed by a process
	// that died becomes due again by itself. Each returned job's Lease is
	// token and its ScheduledAt the time it was due. Claim adds one to each
	// returned job's Attempts. Records that cannot be decoded are moved
	// aside and logged; they never fail the call.
	Claim(ctx context.Context, now time.Time, token string, lease time.Duration, limit int) ([]Job, error)

	// Extend renews, to now+lease, the lease of each of ids that token
	// still holds, in one round trip, and returns the ids it does not
	// hold (another caller claimed the job after its lease ran out, or the
	// job is gone): work on those must stop.
	Extend(ctx context.Context, now time.Time, token string, ids []string, lease time.Duration) (lost []string, err error)

	// Reschedule writes the job's state and makes it due at st.NextPollAt,
	// keeping the attempt count the store holds, and releases the lease: the
	// job is scheduled, held by nobody. It never writes the request, which
	// Save or Admit stored once. It returns ErrNotFound, and writes nothing,
	// when the job was finished meanwhile; when st.Lease is set and the
	// stored lease is another (another process claimed the job since), it
	// returns ErrLeaseLost and writes nothing. An empty st.Lease writes
	// whatever the lease (tools, and jobs never claimed).
	Reschedule(ctx context.Context, id string, st State) error

	// RescheduleMany does what Reschedule does for each job's ID and State
	// (its Request is ignored), in one round
	// trip (Redis) or one transaction (Bolt) for the whole batch, and
	// returns one error per job, in order: nil where the job was written,
	// wrapping ErrNotFound where it was finished meanwhile. It is the one
	// batch form, for callers that move many jobs at once.
	RescheduleMany(ctx context.Context, jobs []Job) []error

	// Finish removes the job. It reports true only to the one caller that
	// removed it, so the final message is sent once.
	Finish(ctx context.Context, id string) (bool, error)

	// Get returns one job, or ErrNotFound. The bot reads jobs through
	// Claim; Get is for tools, tests and the contract suite.
	Get(ctx context.Context, id string) (Job, error)

	// Count returns the number of pending jobs.
	Count(ctx context.Context) (int, error)

	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error

	// Close releases the backend.
	Close() error
}

// Job is one pending song: what the poll loop needs to check it at Whisul
// and to edit the user's reply when it ends. It is stored in two parts: the
// Request, written once when the job is stored (Admit or Save), and the
// State, which Claim, Reschedule and Promote rewrite on every poll without
// touching the Request.
type Job struct {
	// ID identifies the job in the store: the Discord interaction id, which
	// is unique and known before Whisul is called.
	ID string
	Request
	State
}

// Request is what is fixed when the interaction arrives: where and to whom
// the reply goes, and what was asked. The store writes it once.
type Request struct {
	AppID            string
	InteractionToken string // edits the reply for 15 minutes; never log it
	ChannelID        string
	GuildID          string // empty in DMs
	UserID           string
	Prompt           string
	Ephemeral        bool
	// AttachmentLimit is the largest file, in bytes, the reply may carry
	// (Discord's attachment_size_limit); 0 when Discord did not say.
	AttachmentLimit int64
	// InteractionAt is when the bot received the interaction, less a few
	// seconds for Discord's delivery (not the id's timestamp, which is on
	// Discord's clock); its token expires 15 minutes later.
	InteractionAt time.Time
	// Locale is the requester's Discord locale ("de", "pt-BR") and
	// GuildLocale the server's, empty in DMs; both empty in records older
	// than them. They travel with the job so that whichever process
	// delivers it, however much later, writes in the right language.
	Locale      string
	GuildLocale string
}

// State is what submitting the job to Whisul and polling it change.
type State struct {
	WhisulID string // Whisul's job id
	PollURL  string // Whisul's poll_url, relative to its base URL; may be empty
	// SubmittedAt is when Whisul accepted the job.
	SubmittedAt time.Time
	// NextPollAt is when the job is due.
	NextPollAt time.Time
	// Attempts counts the claims; the store keeps it (Reschedule ignores it).
	Attempts int
	// Lease is the token of the process working on the job (set by Claim,
	// or by Admit or Save for a job stored with one), empty while the job
	// is only scheduled. Reschedule checks it and clears it.
	Lease string
	// ScheduledAt is when the job was due when Claim leased it (its
	// NextPollAt before the lease): the base of its next due time, so a job
	// is polled once per interval however late its poll ran.
	ScheduledAt time.Time
	LastStatus  string // last Whisul status seen, to log changes only
	LastError   string
}

// LogValue keeps the interaction token out of logs.
func (j Job) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", j.ID),
		slog.String("whisul_id", j.WhisulID),
		slog.Int("attempts", j.Attempts),
	)
}

// LogValue keeps the interaction token and the prompt out of logs.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user_id", r.UserID),
		slog.String("guild_id", r.GuildID),
		slog.String("channel_id", r.ChannelID),
		slog.Bool("ephemeral", r.Ephemeral),
	)
}
