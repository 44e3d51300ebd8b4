package storage

import (
	"fmt"
	"strconv"
	"time"
)

// Record versions, written in every job record's "v" field. Bump the
// version when the meaning or the place of a field changes, and teach the
// readers the old one. Adding a field does not need a new version: missing
// fields decode as zero.
const (
	// recordV1 keeps the whole job in one place: Redis's hash (which is
	// still written as version 1, see Redis.Reschedule) and Bolt's "jobs"
	// value before version 2.
	recordV1 = 1
	// recordV2 is Bolt's split record: the request in "jobs", written
	// once, and the state in "job_state", rewritten by every poll. A
	// version 1 record is read as is and split on its first write.
	recordV2 = 2
)

// Field names of a job record. Redis keeps each as a hash field and Bolt
// as a key of a JSON object, so both read the same in a debugger or
// redis-cli. Times are unix milliseconds, empty for the zero time.
const (
	fieldVersion = "v"

	// The request's fields, written once.
	fieldToken         = "interaction_token"
	fieldAppID         = "app_id"
	fieldChannelID     = "channel_id"
	fieldGuildID       = "guild_id"
	fieldUserID        = "user_id"
	fieldPrompt        = "prompt"
	fieldEphemeral     = "ephemeral" // "1" or "0"
	fieldInteractionAt = "interaction_at"
	fieldAttachLimit   = "attachment_limit" // bytes; absent in older records
	fieldLocale        = "locale"           // absent in older records
	fieldGuildLocale   = "guild_locale"     // absent in older records and DMs

	// The state's fields, rewritten by every poll.
	fieldWhisulID    = "whisul_id"
	fieldPollURL     = "poll_url"
	fieldSubmittedAt = "submitted_at"
	fieldNextPollAt  = "next_poll_at"
	fieldAttempts    = "attempts"
	fieldLastStatus  = "last_status"
	fieldLastError   = "last_error"
	fieldLease       = "lease"        // the lease holder's token; empty when scheduled
	fieldScheduledAt = "scheduled_at" // due time before the current lease
)

// stateFields are the names encodeState writes, so a version 1 record can
// be split into its request and its state.
var stateFields = []string{
	fieldWhisulID, fieldPollURL, fieldSubmittedAt, fieldNextPollAt,
	fieldAttempts, fieldLastStatus, fieldLastError, fieldLease, fieldScheduledAt,
}

func isStateField(name string) bool {
	for _, f := range stateFields {
		if f == name {
			return true
		}
	}
	return false
}

// encodeRequest returns the request's fields as name, value pairs, without
// a version.
func encodeRequest(r Request) []string {
	return []string{
		fieldToken, r.InteractionToken,
		fieldAppID, r.AppID,
		fieldChannelID, r.ChannelID,
		fieldGuildID, r.GuildID,
		fieldUserID, r.UserID,
		fieldPrompt, r.Prompt,
		fieldEphemeral, formatBool(r.Ephemeral),
		fieldInteractionAt, formatTime(r.InteractionAt),
		fieldAttachLimit, strconv.FormatInt(r.AttachmentLimit, 10),
		fieldLocale, r.Locale,
		fieldGuildLocale, r.GuildLocale,
	}
}

// encodeState returns the state's fields as name, value pairs, in the
// order of stateFields.
func encodeState(s State) []string {
	return []string{
		fieldWhisulID, s.WhisulID,
		fieldPollURL, s.PollURL,
		fieldSubmittedAt, formatTime(s.SubmittedAt),
		fieldNextPollAt, formatTime(s.NextPollAt),
		fieldAttempts, strconv.Itoa(s.Attempts),
		fieldLastStatus, s.LastStatus,
		fieldLastError, s.LastError,
		fieldLease, s.Lease,
		fieldScheduledAt, formatTime(s.ScheduledAt),
	}
}

// encodeRecord returns the whole job as one version 1 record, version
// first: Redis's hash. The ID is not among the fields: it is the key.
func encodeRecord(job Job) []string {
	out := []string{fieldVersion, strconv.Itoa(recordV1)}
	out = append(out, encodeRequest(job.Request)...)
	return append(out, encodeState(job.State)...)
}

// releasedState is the state Reschedule writes: st without attempts (the
// store keeps its own) and with the lease released.
func releasedState(st State) []string {
	st.Lease = ""
	return withoutField(encodeState(st), fieldAttempts)
}

// withoutField returns pairs without the named field, for writes that must
// keep the stored value (Reschedule keeps attempts).
func withoutField(pairs []string, name string) []string {
	out := make([]string, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != name {
			out = append(out, pairs[i], pairs[i+1])
		}
	}
	return out
}

// pairsToMap is the inverse of the pair list, for stores that keep a map.
func pairsToMap(pairs []string) map[string]string {
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// decodeRecord builds the job stored under id from all its fields, whose
// "v" must be version: a version 1 record, or a version 2 one with its
// state merged in. Errors wrap ErrCorrupt and name the field, never its
// value, so they are safe to log even if the token was written into the
// wrong field.
func decodeRecord(id string, f map[string]string, version int) (Job, error) {
	if len(f) == 0 {
		return Job{}, fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	if err := checkVersion(f, version); err != nil {
		return Job{}, err
	}
	job := Job{
		ID: id,
		Request: Request{
			InteractionToken: f[fieldToken],
			AppID:            f[fieldAppID],
			ChannelID:        f[fieldChannelID],
			GuildID:          f[fieldGuildID],
			UserID:           f[fieldUserID],
			Prompt:           f[fieldPrompt],
			Locale:           f[fieldLocale],
			GuildLocale:      f[fieldGuildLocale],
		},
		State: State{
			WhisulID:   f[fieldWhisulID],
			PollURL:    f[fieldPollURL],
			LastStatus: f[fieldLastStatus],
			LastError:  f[fieldLastError],
			Lease:      f[fieldLease],
		},
	}
	var err error
	if job.Ephemeral, err = parseBool(f, fieldEphemeral); err != nil {
		return Job{}, err
	}
	if job.InteractionAt, err = parseTime(f, fieldInteractionAt); err != nil {
		return Job{}, err
	}
	if job.SubmittedAt, err = parseTime(f, fieldSubmittedAt); err != nil {
		return Job{}, err
	}
	if job.NextPollAt, err = parseTime(f, fieldNextPollAt); err != nil {
		return Job{}, err
	}
	if job.ScheduledAt, err = parseTime(f, fieldScheduledAt); err != nil {
		return Job{}, err
	}
	if job.Attempts, err = parseInt(f, fieldAttempts); err != nil {
		return Job{}, err
	}
	limit, err := parseInt(f, fieldAttachLimit)
	if err != nil {
		return Job{}, err
	}
	job.AttachmentLimit = int64(limit)
	return job, nil
}

// checkVersion checks a job or song record's "v" field against the
// versions this songbot reads. The error wraps ErrCorrupt and quotes the
// field only when it is a number.
func checkVersion(f map[string]string, want ...int) error {
	v, ok := f[fieldVersion]
	if !ok {
		return fmt.Errorf("%w: no %q field", ErrCorrupt, fieldVersion)
	}
	for _, w := range want {
		if v == strconv.Itoa(w) {
			return nil
		}
	}
	if _, err := strconv.Atoi(v); err == nil {
		return fmt.Errorf("%w: unknown version %s", ErrCorrupt, v)
	}
	return fmt.Errorf("%w: field %q is not a version number", ErrCorrupt, fieldVersion)
}

// dueMillis is the score a job due at t sorts by. The zero time is due at
// once, before every real time.
func dueMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixMilli(), 0)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func formatBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func parseTime(f map[string]string, name string) (time.Time, error) {
	s := f[name]
	if s == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: field %q is not unix milliseconds", ErrCorrupt, name)
	}
	return time.UnixMilli(ms).UTC(), nil
}

func parseInt(f map[string]string, name string) (int, error) {
	s := f[name]
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: field %q is not an integer", ErrCorrupt, name)
	}
	return n, nil
}

func parseBool(f map[string]string, name string) (bool, error) {
	switch f[name] {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("%w: field %q is not 0 or 1", ErrCorrupt, name)
}
