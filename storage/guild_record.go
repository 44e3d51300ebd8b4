package storage

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// How a server's settings are stored: flat string fields, like a job
// record, in a Redis hash or a Bolt JSON object. A field is written only
// when it says something: an unset override has no field, so the absence
// of a field is "keep the operator's limit" and "0" is a real value (the
// limit is off in that server). Missing fields decode as zero, so a later
// songbot can add settings without a new version.
const (
	settingsV1 = 1

	fieldPaused         = "paused" // "1" when paused
	fieldPauseReason    = "pause_reason"
	fieldShowcase       = "showcase_channel_id"
	fieldOvUserMax      = "user_max_active"
	fieldOvUserCooldown = "user_cooldown_ms"
	fieldOvUserDaily    = "user_daily_limit"
	fieldOvGuildMax     = "guild_max_active"
	fieldOvGuildDaily   = "guild_daily_limit"
)

// overrideFields are the overrides' field names in the order the Redis
// admit script reads and returns them.
var overrideFields = []string{fieldOvUserMax, fieldOvUserCooldown, fieldOvUserDaily, fieldOvGuildMax, fieldOvGuildDaily}

// Fields a job record gains at admission, beside the request and the
// state (see doc.go). Older records have none of them and read as zero.
const (
	// fieldAdmittedDay is the UTC day (YYYYMMDD) whose daily counts the
	// admission raised, so Cancel can take it off them. Fixed at
	// admission, it belongs with the request.
	fieldAdmittedDay = "admitted_day"
	// fieldShownPosition and fieldShownAt are the queue place the user's
	// reply last showed, and when (unix ms): set at admission and by
	// ClaimPositionEdit, so they belong with the state.
	fieldShownPosition = "shown_position"
	fieldShownAt       = "shown_at"
)

// encodeGuildSettings returns the settings as name, value pairs, version
// first; nil for the zero value, which needs no record at all. Negative
// overrides are stored as 0, which means the same (off), and the cooldown
// in whole milliseconds, rounded up as Admit rounds it.
func encodeGuildSettings(gs GuildSettings) []string {
	var out []string
	if gs.Paused {
		out = append(out, fieldPaused, "1")
	}
	if gs.PauseReason != "" {
		out = append(out, fieldPauseReason, gs.PauseReason)
	}
	if gs.ShowcaseChannelID != "" {
		out = append(out, fieldShowcase, gs.ShowcaseChannelID)
	}
	o := gs.Overrides
	for i, v := range []*int{o.UserMaxActive, nil, o.UserDailyLimit, o.GuildMaxActive, o.GuildDailyLimit} {
		if v != nil {
			out = append(out, overrideFields[i], strconv.Itoa(max(*v, 0)))
		}
	}
	if o.UserCooldown != nil {
		out = append(out, fieldOvUserCooldown, strconv.FormatInt(Limits{UserCooldown: max(*o.UserCooldown, 0)}.cooldownMillis(), 10))
	}
	if len(out) == 0 {
		return nil
	}
	return append([]string{fieldVersion, strconv.Itoa(settingsV1)}, out...)
}

// decodeGuildSettings reads stored settings; no fields at all is the zero
// value. strict makes a damaged field an error wrapping ErrCorrupt (what
// GuildSettings returns, so an admin learns of it); otherwise a damaged
// override is read as unset, as the Redis admit script reads it, so that a
// damaged record never blocks admissions.
func decodeGuildSettings(f map[string]string, strict bool) (GuildSettings, error) {
	if len(f) == 0 {
		return GuildSettings{}, nil
	}
	if err := checkVersion(f, settingsV1); err != nil && strict {
		return GuildSettings{}, fmt.Errorf("guild settings: %w", err)
	}
	gs := GuildSettings{
		Paused:            f[fieldPaused] == "1",
		PauseReason:       f[fieldPauseReason],
		ShowcaseChannelID: f[fieldShowcase],
	}
	if v := f[fieldPaused]; strict && v != "" && v != "0" && v != "1" {
		return GuildSettings{}, fmt.Errorf("guild settings: %w: field %q is not 0 or 1", ErrCorrupt, fieldPaused)
	}
	o := &gs.Overrides
	dst := []**int{&o.UserMaxActive, nil, &o.UserDailyLimit, &o.GuildMaxActive, &o.GuildDailyLimit}
	for i, name := range overrideFields {
		s, ok := f[name]
		if !ok {
			continue
		}
		n, ok := parseCount(s)
		if !ok {
			if strict {
				return GuildSettings{}, fmt.Errorf("guild settings: %w: field %q is not a whole number", ErrCorrupt, name)
			}
			continue
		}
		if dst[i] == nil {
			d := time.Duration(n) * time.Millisecond
			o.UserCooldown = &d
		} else {
			*dst[i] = &n
		}
	}
	return gs, nil
}

// parseCount reads a stored count or override: decimal digits only, as
// the Lua scripts' '^%d+$' reads it.
func parseCount(s string) (int, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// effective is what Admit applies: the caller's limits, negatives off,
// with the server's overrides in place.
func effective(l Limits, o Overrides) Limits { return o.Apply(l).normalized() }

// SortActive puts running jobs first, oldest interaction first, then the
// queued ones by their place, as GuildJobs and UserJobs return them.
func SortActive(jobs []ActiveJob) {
	slices.SortFunc(jobs, func(a, b ActiveJob) int {
		switch {
		case a.Queued != b.Queued:
			if a.Queued {
				return 1
			}
			return -1
		case a.Queued:
			return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Or(a.InteractionAt.Compare(b.InteractionAt), cmp.Compare(a.ID, b.ID))
	})
}

// shownOf reads a record's shown position; 0 when none was shown or the
// field is damaged (it only decides whether to edit a reply).
func shownOf(f map[string]string) int {
	n, _ := parseCount(f[fieldShownPosition])
	return n
}
