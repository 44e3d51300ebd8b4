package bot

import "github.com/songbot-dev/songbot/storage"

// The words below are what the bot reports to Metrics and OnJobDone. They
// are typed, and listed by functions, so a metrics backend can create its
// label values in advance from the same constants the bot reports: the
// labels cannot drift from what the bot says.

// JobOutcome is how a job ended.
type JobOutcome string

// How a job ends.
const (
	JobCompleted JobOutcome = "completed" // the song reached its user
	JobCancelled JobOutcome = "cancelled" // taken out of the queue before it started
	JobFailed    JobOutcome = "failed"    // Whisul failed to make it
	JobTimedOut  JobOutcome = "timed_out" // it ran longer than Options.JobTimeout
	JobNotFound  JobOutcome = "not_found" // Whisul no longer knows it
	JobRejected  JobOutcome = "rejected"  // Whisul refused the submission
)

// JobOutcomes lists every JobOutcome.
func JobOutcomes() []JobOutcome {
	return []JobOutcome{JobCompleted, JobCancelled, JobFailed, JobTimedOut, JobNotFound, JobRejected}
}

// InteractionOutcome is how the bot answered a request for a song.
type InteractionOutcome string

// How a request for a song is answered.
const (
	InteractionAccepted      InteractionOutcome = "accepted"
	InteractionInvalidPrompt InteractionOutcome = "invalid_prompt"
	InteractionRefused       InteractionOutcome = "refused"
	InteractionError         InteractionOutcome = "error"
	// InteractionDuplicate: a second delivery of an interaction already
	// admitted (a retry, or another instance got it too); no second song.
	InteractionDuplicate InteractionOutcome = "duplicate"
)

// InteractionOutcomes lists every InteractionOutcome.
func InteractionOutcomes() []InteractionOutcome {
	return []InteractionOutcome{InteractionAccepted, InteractionInvalidPrompt, InteractionRefused, InteractionError, InteractionDuplicate}
}

// FallbackPlace is where a result went when its reply could no longer be
// edited.
type FallbackPlace string

// Where a fallback message goes.
const (
	FallbackChannel FallbackPlace = "channel" // the interaction's channel
	FallbackDM      FallbackPlace = "dm"      // a DM to the requester
	FallbackLost    FallbackPlace = "lost"    // neither worked
)

// FallbackPlaces lists every FallbackPlace.
func FallbackPlaces() []FallbackPlace {
	return []FallbackPlace{FallbackChannel, FallbackDM, FallbackLost}
}

// RefusalReason is why a request for a song was refused: one of the bot's
// own rules, or a limit the store applied (a storage.Refusal).
type RefusalReason string

// Why a request is refused. The first four need no store; the others are
// the store's storage.Refusal values.
const (
	RefusedGuildNotAllowed RefusalReason = "guild_not_allowed"
	RefusedBlockedUser     RefusalReason = "blocked_user"
	RefusedBlockedWord     RefusalReason = "blocked_word"
	// RefusedDMNotAllowed: ALLOWED_GUILD_IDS is set, and ALLOW_DMS is not,
	// so DMs and private channels are refused.
	RefusedDMNotAllowed RefusalReason = "dm_not_allowed"

	RefusedPaused     = RefusalReason(storage.RefusedPaused)
	RefusedGuildDaily = RefusalReason(storage.RefusedGuildDaily)
	RefusedBotDaily   = RefusalReason(storage.RefusedBotDaily)

	RefusedUserActive  = RefusalReason(storage.RefusedUserActive)
	RefusedCooldown    = RefusalReason(storage.RefusedCooldown)
	RefusedDaily       = RefusalReason(storage.RefusedDaily)
	RefusedGuildActive = RefusalReason(storage.RefusedGuildActive)
	RefusedQueueFull   = RefusalReason(storage.RefusedQueueFull)
)

// RefusalReasons lists every RefusalReason.
func RefusalReasons() []RefusalReason {
	return []RefusalReason{
		RefusedPaused, RefusedUserActive, RefusedCooldown, RefusedDaily, RefusedGuildActive, RefusedGuildDaily,
		RefusedBotDaily, RefusedQueueFull, RefusedGuildNotAllowed, RefusedDMNotAllowed, RefusedBlockedUser, RefusedBlockedWord,
	}
}
