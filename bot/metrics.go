package bot

import "time"

// Metrics receives the events an operator counts. Implementations must be
// fast and safe for concurrent use; labels are low-cardinality words, never
// ids or prompts.
type Metrics interface {
	// Interaction counts a /song by outcome: accepted, invalid_prompt,
	// refused or error.
	Interaction(outcome string)
	// Refused counts a refused /song by reason: a storage.Refusal, or
	// guild_not_allowed, blocked_user or blocked_word.
	Refused(reason string)
	// Acknowledged observes the time from receiving an interaction to
	// acknowledging it.
	Acknowledged(latency time.Duration)
	// JobFinished counts a job's end by outcome (completed, failed,
	// timed_out, not_found or rejected) with the time since submission
	// (since the interaction, for a job never submitted).
	JobFinished(outcome string, sinceSubmit time.Duration)
	// DiscordEditFailed counts a failed edit of a reply.
	DiscordEditFailed()
	// Fallback counts a result sent outside its reply: channel, dm, or
	// lost when neither worked.
	Fallback(where string)
}

// nopMetrics is the default: it counts nothing.
type nopMetrics struct{}

func (nopMetrics) Interaction(string)                {}
func (nopMetrics) Refused(string)                    {}
func (nopMetrics) Acknowledged(time.Duration)        {}
func (nopMetrics) JobFinished(string, time.Duration) {}
func (nopMetrics) DiscordEditFailed()                {}
func (nopMetrics) Fallback(string)                   {}
