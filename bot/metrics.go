package bot

import "time"

// Metrics receives the events an operator counts. Implementations must be
// fast and safe for concurrent use; labels are low-cardinality words, never
// ids or prompts: the typed values of outcomes.go, listed in advance by
// InteractionOutcomes, RefusalReasons, JobOutcomes and FallbackPlaces.
type Metrics interface {
	// Interaction counts a request for a song by how it was answered.
	Interaction(outcome InteractionOutcome)
	// Refused counts a refused request by the rule or limit that refused it.
	Refused(reason RefusalReason)
	// Acknowledged observes the time from receiving an interaction to
	// acknowledging it.
	Acknowledged(latency time.Duration)
	// JobFinished counts a job's end by outcome with the time since
	// submission (since the interaction, for a job never submitted).
	JobFinished(outcome JobOutcome, sinceSubmit time.Duration)
	// DiscordEditFailed counts a failed edit of a reply.
	DiscordEditFailed()
	// Fallback counts a result sent outside its reply, by where it went.
	Fallback(where FallbackPlace)
}

// nopMetrics is the default: it counts nothing.
type nopMetrics struct{}

func (nopMetrics) Interaction(InteractionOutcome)        {}
func (nopMetrics) Refused(RefusalReason)                 {}
func (nopMetrics) Acknowledged(time.Duration)            {}
func (nopMetrics) JobFinished(JobOutcome, time.Duration) {}
func (nopMetrics) DiscordEditFailed()                    {}
func (nopMetrics) Fallback(FallbackPlace)                {}
