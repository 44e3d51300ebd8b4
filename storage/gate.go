package storage

import (
	"errors"
	"time"
)

// What the Redis and Bolt gates share. Both keep the counts as sets of job
// ids rather than bare integers, so a count is always the number of jobs
// that really hold a place, and a job lost without Finish (a hash that
// expired, a record moved aside) can be found and dropped instead of
// holding a slot for ever.

const (
	// dayCountTTL is how long a user's count of one UTC day's admissions
	// is kept: to the end of that day and a margin for clocks.
	dayCountTTL = 48 * time.Hour
	// minActiveTTL is the least time a user's or guild's active set lives
	// after its last change, so the set of a job that nobody finished does
	// not stay for ever, yet outlives its jobs as long as none lasts longer
	// (the bot's JOB_TIMEOUT is far shorter).
	minActiveTTL = 48 * time.Hour
)

// checkAdmit refuses a job the limits cannot be applied to.
func checkAdmit(job Job) error {
	switch {
	case job.ID == "":
		return errors.New("storage: admit: empty job ID")
	case job.UserID == "":
		return errors.New("storage: admit: empty user ID; the per-user limits need one")
	}
	return nil
}

// normalized reads a negative limit as zero, which switches it off.
func (l Limits) normalized() Limits {
	l.MaxRunning = max(l.MaxRunning, 0)
	l.MaxQueued = max(l.MaxQueued, 0)
	l.UserMaxActive = max(l.UserMaxActive, 0)
	l.UserCooldown = max(l.UserCooldown, 0)
	l.UserDailyLimit = max(l.UserDailyLimit, 0)
	l.GuildMaxActive = max(l.GuildMaxActive, 0)
	l.GuildDailyLimit = max(l.GuildDailyLimit, 0)
	l.DailyLimit = max(l.DailyLimit, 0)
	return l
}

// cooldownMillis is the cooldown in whole milliseconds, rounded up so that
// a positive cooldown never becomes zero (Redis refuses PX 0).
func (l Limits) cooldownMillis() int64 {
	ms := l.UserCooldown.Milliseconds()
	if time.Duration(ms)*time.Millisecond < l.UserCooldown {
		ms++
	}
	return ms
}

// utcDay names the UTC day of t, as the daily count's key does: "20250601".
func utcDay(t time.Time) string { return t.UTC().Format("20060102") }

// NextUTCMidnight is when the daily limits of t's UTC day free by
// themselves: the RetryAt of a daily refusal.
func NextUTCMidnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
