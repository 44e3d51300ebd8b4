package storagetest

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// Memory's Gate: the checks of storage.Gate in its documented order, as
// the Redis script and the Bolt transaction make them. A limit of zero or
// less is off, so every check reads "> 0". A user's or guild's active jobs
// are counted from the jobs themselves, since nothing here expires behind
// the store's back.

// Admit implements storage.Gate.
func (m *Memory) Admit(ctx context.Context, now time.Time, job storage.Job, limits storage.Limits) (storage.Admission, error) {
	if err := m.lock(ctx, "admit"); err != nil {
		return storage.Admission{}, err
	}
	defer m.mu.Unlock()
	switch {
	case job.ID == "":
		return storage.Admission{}, errors.New("storage: admit: empty job ID")
	case job.UserID == "":
		return storage.Admission{}, errors.New("storage: admit: empty user ID; the per-user limits need one")
	}
	var gs storage.GuildSettings
	if job.GuildID != "" {
		gs = m.settings[job.GuildID]
	}
	l := effective(limits, gs.Overrides)
	adm := m.admit(ms(now), job, l, gs)
	adm.Limits = l
	return adm, nil
}

// AdmitFromSong implements storage.Gate: the song's prompt, then Admit.
func (m *Memory) AdmitFromSong(ctx context.Context, now time.Time, job storage.Job, ref string, limits storage.Limits) (storage.Admission, error) {
	if ref == "" {
		return storage.Admission{}, errors.New("storage: admit from song: empty song ref")
	}
	song, err := m.Song(ctx, ref)
	if err != nil {
		return storage.Admission{}, err
	}
	job.Prompt = song.Prompt
	adm, err := m.Admit(ctx, now, job, limits)
	if err == nil && !adm.Duplicate {
		adm.Prompt = song.Prompt
	}
	return adm, err
}

// admit is Admit under the lock, with the server's overrides in l.
func (m *Memory) admit(now time.Time, job storage.Job, l storage.Limits, gs storage.GuildSettings) storage.Admission {
	if old, ok := m.jobs[job.ID]; ok { // a second delivery, or a retried Admit
		if old.queued {
			return storage.Admission{Queued: true, Position: m.position(job.ID), Duplicate: true}
		}
		return storage.Admission{Duplicate: true}
	}
	if m.seen[job.ID].After(now) {
		return storage.Admission{Duplicate: true}
	}
	if gs.Paused {
		return storage.Admission{Refused: storage.RefusedPaused, PauseReason: gs.PauseReason}
	}
	if l.UserMaxActive > 0 && m.active(func(j storage.Job) bool { return j.UserID == job.UserID }) >= l.UserMaxActive {
		return storage.Admission{Refused: storage.RefusedUserActive}
	}
	u := m.users[job.UserID]
	day := utcDay(now)
	if retry := u.last.Add(cooldown(l)); l.UserCooldown > 0 && !u.last.IsZero() && retry.After(now) {
		return storage.Admission{Refused: storage.RefusedCooldown, RetryAt: retry}
	}
	if u.day != day {
		u.day, u.n = day, 0
	}
	if l.UserDailyLimit > 0 && u.n >= l.UserDailyLimit {
		return storage.Admission{Refused: storage.RefusedDaily, RetryAt: storage.NextUTCMidnight(now)}
	}
	if job.GuildID != "" && l.GuildMaxActive > 0 &&
		m.active(func(j storage.Job) bool { return j.GuildID == job.GuildID }) >= l.GuildMaxActive {
		return storage.Admission{Refused: storage.RefusedGuildActive}
	}
	if job.GuildID != "" && l.GuildDailyLimit > 0 && m.days[dayKey(day, job.GuildID)] >= l.GuildDailyLimit {
		return storage.Admission{Refused: storage.RefusedGuildDaily, RetryAt: storage.NextUTCMidnight(now)}
	}
	if l.DailyLimit > 0 && m.days[dayKey(day, "")] >= l.DailyLimit {
		return storage.Admission{Refused: storage.RefusedBotDaily, RetryAt: storage.NextUTCMidnight(now)}
	}
	run := l.MaxRunning <= 0 || (len(m.queue) == 0 && m.running() < l.MaxRunning)
	if !run && l.MaxQueued > 0 && len(m.queue) >= l.MaxQueued {
		return storage.Admission{Refused: storage.RefusedQueueFull}
	}

	j := &memJob{job: normalized(job), queued: !run, day: day}
	m.jobs[job.ID] = j
	var adm storage.Admission
	if !run {
		m.queue = append(m.queue, job.ID)
		adm = storage.Admission{Queued: true, Position: len(m.queue)}
		j.shown, j.shownAt = adm.Position, now
	}
	if l.UserCooldown > 0 {
		u.last, u.until = now, now.Add(cooldown(l))
	}
	u.n++
	m.users[job.UserID] = u
	if job.GuildID != "" {
		m.days[dayKey(day, job.GuildID)]++
	}
	m.days[dayKey(day, "")]++
	m.forgetDays(utcDay(now.Add(-24 * time.Hour)))
	m.forgetSeen(now)
	m.seen[job.ID] = now.Add(storage.SeenTTL)
	return adm
}

// dayKey names a count of day's admissions: the bot's when guildID is
// empty, else the guild's.
func dayKey(day, guildID string) string {
	if guildID == "" {
		return day + "\x00bot"
	}
	return day + "\x00guild\x00" + guildID
}

// forgetDays drops the counts of days before keep (YYYYMMDD).
func (m *Memory) forgetDays(keep string) {
	for k := range m.days {
		if k[:min(len(k), len(keep))] < keep {
			delete(m.days, k)
		}
	}
}

func utcDay(t time.Time) string { return t.UTC().Format("20060102") }

// cooldown is l's cooldown in whole milliseconds, rounded up, as the
// stores apply it.
func cooldown(l storage.Limits) time.Duration { return roundMillis(l.UserCooldown) }

func roundMillis(d time.Duration) time.Duration {
	r := d.Truncate(time.Millisecond)
	if r < d {
		r += time.Millisecond
	}
	return r
}

// effective is what the stores apply: l with the overrides in place,
// negative limits off.
func effective(l storage.Limits, o storage.Overrides) storage.Limits {
	l = o.Apply(l)
	for _, p := range []*int{&l.MaxRunning, &l.MaxQueued, &l.UserMaxActive, &l.UserDailyLimit,
		&l.GuildMaxActive, &l.GuildDailyLimit, &l.DailyLimit} {
		*p = max(*p, 0)
	}
	l.UserCooldown = max(l.UserCooldown, 0)
	return l
}

// forgetSeen drops the admitted ids remembered until before now.
func (m *Memory) forgetSeen(now time.Time) {
	for id, until := range m.seen {
		if !until.After(now) {
			delete(m.seen, id)
		}
	}
}

// Promote implements storage.Gate.
func (m *Memory) Promote(ctx context.Context, now time.Time, limits storage.Limits) ([]string, error) {
	if err := m.lock(ctx, "promote"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if len(m.queue) == 0 {
		return nil, nil
	}
	free := len(m.queue)
	if limits.MaxRunning > 0 {
		free = min(free, limits.MaxRunning-m.running())
	}
	if free <= 0 {
		return nil, nil
	}
	ids := slices.Clone(m.queue[:free])
	m.queue = slices.Delete(m.queue, 0, free)
	at := time.UnixMilli(dueMillis(now)).UTC()
	for _, id := range ids {
		j := m.jobs[id]
		j.queued = false
		j.job.NextPollAt = at
	}
	return ids, nil
}

// QueuePosition implements storage.Gate.
func (m *Memory) QueuePosition(ctx context.Context, id string) (int, error) {
	if err := m.lock(ctx, "queue position"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return m.position(id), nil
}

// Counts implements storage.Gate.
func (m *Memory) Counts(ctx context.Context) (running, queued int, err error) {
	if err := m.lock(ctx, "counts"); err != nil {
		return 0, 0, err
	}
	defer m.mu.Unlock()
	return m.running(), len(m.queue), nil
}

func (m *Memory) running() int { return len(m.jobs) - len(m.queue) }

func (m *Memory) position(id string) int { return slices.Index(m.queue, id) + 1 }

// active counts the running and queued jobs that match.
func (m *Memory) active(match func(storage.Job) bool) int {
	n := 0
	for _, j := range m.jobs {
		if match(j.job) {
			n++
		}
	}
	return n
}
