package storage

import (
	"fmt"
	"strconv"
	"time"
)

// recordVersion is written in every record's "v" field. Bump it when the
// meaning of a field changes, and teach decodeRecord to read the old version.
// Adding a field does not need a new version: missing fields decode as zero.
const recordVersion = 1

// Field names of a version 1 record. Redis keeps each as a hash field and Bolt
// as a key of a JSON object, so both read the same in a debugger or redis-cli.
// Times are unix milliseconds, empty for the zero time.
const (
	fieldVersion       = "v"
	fieldWhisulID      = "whisul_id"
	fieldPollURL       = "poll_url"
	fieldToken         = "interaction_token"
	fieldAppID         = "app_id"
	fieldChannelID     = "channel_id"
	fieldGuildID       = "guild_id"
	fieldUserID        = "user_id"
	fieldPrompt        = "prompt"
	fieldEphemeral     = "ephemeral" // "1" or "0"
	fieldInteractionAt = "interaction_at"
	fieldSubmittedAt   = "submitted_at"
	fieldNextPollAt    = "next_poll_at"
	fieldAttempts      = "attempts"
	fieldLastStatus    = "last_status"
	fieldLastError     = "last_error"
	fieldAttachLimit   = "attachment_limit" // bytes; absent in older records
)

// encodeRecord returns job's fields as name, value pairs, version first. The
// ID is not among them: it is the record's key.
func encodeRecord(job Job) []string {
	return []string{
		fieldVersion, strconv.Itoa(recordVersion),
		fieldWhisulID, job.WhisulID,
		fieldPollURL, job.PollURL,
		fieldToken, job.InteractionToken,
		fieldAppID, job.AppID,
		fieldChannelID, job.ChannelID,
		fieldGuildID, job.GuildID,
		fieldUserID, job.UserID,
		fieldPrompt, job.Prompt,
		fieldEphemeral, formatBool(job.Ephemeral),
		fieldInteractionAt, formatTime(job.InteractionAt),
		fieldSubmittedAt, formatTime(job.SubmittedAt),
		fieldNextPollAt, formatTime(job.NextPollAt),
		fieldAttempts, strconv.Itoa(job.Attempts),
		fieldLastStatus, job.LastStatus,
		fieldLastError, job.LastError,
		fieldAttachLimit, strconv.FormatInt(job.AttachmentLimit, 10),
	}
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

// decodeRecord builds the job stored under id. Errors wrap ErrCorrupt and
// name the field, never its value, so they are safe to log even if the
// token was written into the wrong field.
func decodeRecord(id string, f map[string]string) (Job, error) {
	if len(f) == 0 {
		return Job{}, fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	if err := checkVersion(f, recordVersion); err != nil {
		return Job{}, err
	}
	job := Job{
		ID:               id,
		WhisulID:         f[fieldWhisulID],
		PollURL:          f[fieldPollURL],
		InteractionToken: f[fieldToken],
		AppID:            f[fieldAppID],
		ChannelID:        f[fieldChannelID],
		GuildID:          f[fieldGuildID],
		UserID:           f[fieldUserID],
		Prompt:           f[fieldPrompt],
		LastStatus:       f[fieldLastStatus],
		LastError:        f[fieldLastError],
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

// checkVersion checks a job or song record's "v" field against want. The
// error wraps ErrCorrupt and quotes the field only when it is a number.
func checkVersion(f map[string]string, want int) error {
	v, ok := f[fieldVersion]
	switch {
	case !ok:
		return fmt.Errorf("%w: no %q field", ErrCorrupt, fieldVersion)
	case v == strconv.Itoa(want):
		return nil
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
