package storagetest

import (
	"context"
	"errors"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// Memory's Settings and Roster, under the one lock, so Cancel and Promote
// never both take a job.

// GuildSettings implements storage.Settings.
func (m *Memory) GuildSettings(ctx context.Context, guildID string) (storage.GuildSettings, error) {
	if err := m.lock(ctx, "guild settings"); err != nil {
		return storage.GuildSettings{}, err
	}
	defer m.mu.Unlock()
	if guildID == "" {
		return storage.GuildSettings{}, errors.New("storage: guild settings: empty guild ID")
	}
	return cloneSettings(m.settings[guildID]), nil
}

// UpdateGuildSettings implements storage.Settings; change runs once.
func (m *Memory) UpdateGuildSettings(ctx context.Context, guildID string, change func(*storage.GuildSettings)) (storage.GuildSettings, error) {
	if err := m.lock(ctx, "update guild settings"); err != nil {
		return storage.GuildSettings{}, err
	}
	defer m.mu.Unlock()
	if guildID == "" {
		return storage.GuildSettings{}, errors.New("storage: update guild settings: empty guild ID")
	}
	gs := cloneSettings(m.settings[guildID])
	change(&gs)
	gs = storedSettings(gs)
	if gs == (storage.GuildSettings{}) {
		delete(m.settings, guildID)
	} else {
		m.settings[guildID] = gs
	}
	return cloneSettings(gs), nil
}

// cloneSettings copies the overrides, so neither the caller nor the store
// changes the other's.
func cloneSettings(gs storage.GuildSettings) storage.GuildSettings {
	o := &gs.Overrides
	for _, p := range []**int{&o.UserMaxActive, &o.UserDailyLimit, &o.GuildMaxActive, &o.GuildDailyLimit} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	if o.UserCooldown != nil {
		d := *o.UserCooldown
		o.UserCooldown = &d
	}
	return gs
}

// storedSettings is gs as the real stores keep it: negative overrides as
// 0 (which means the same, off), the cooldown in whole milliseconds,
// rounded up. It returns a copy.
func storedSettings(gs storage.GuildSettings) storage.GuildSettings {
	gs = cloneSettings(gs)
	o := &gs.Overrides
	for _, p := range []*int{o.UserMaxActive, o.UserDailyLimit, o.GuildMaxActive, o.GuildDailyLimit} {
		if p != nil {
			*p = max(*p, 0)
		}
	}
	if o.UserCooldown != nil {
		*o.UserCooldown = roundMillis(max(*o.UserCooldown, 0))
	}
	return gs
}

// Cancel implements storage.Roster.
func (m *Memory) Cancel(ctx context.Context, now time.Time, id string) (storage.Job, error) {
	if err := m.lock(ctx, "cancel"); err != nil {
		return storage.Job{}, err
	}
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	switch {
	case !ok:
		return storage.Job{}, &memError{"cancel", storage.ErrNotFound}
	case !j.queued:
		return storage.Job{}, &memError{"cancel", storage.ErrNotQueued}
	}
	m.leaveQueue(id)
	delete(m.jobs, id)
	if j.day != "" {
		if u, ok := m.users[j.job.UserID]; ok && u.day == j.day && u.n > 0 {
			u.n--
			m.users[j.job.UserID] = u
		}
		if j.job.GuildID != "" {
			m.takeDay(dayKey(j.day, j.job.GuildID))
		}
		m.takeDay(dayKey(j.day, ""))
	}
	return j.job, nil
}

func (m *Memory) takeDay(key string) {
	if m.days[key] > 1 {
		m.days[key]--
	} else {
		delete(m.days, key)
	}
}

// GuildJobs implements storage.Roster.
func (m *Memory) GuildJobs(ctx context.Context, guildID string) ([]storage.ActiveJob, error) {
	return m.activeJobs(ctx, "guild jobs", func(j storage.Job) bool { return j.GuildID != "" && j.GuildID == guildID })
}

// UserJobs implements storage.Roster.
func (m *Memory) UserJobs(ctx context.Context, userID string) ([]storage.ActiveJob, error) {
	return m.activeJobs(ctx, "user jobs", func(j storage.Job) bool { return j.UserID != "" && j.UserID == userID })
}

func (m *Memory) activeJobs(ctx context.Context, op string, match func(storage.Job) bool) ([]storage.ActiveJob, error) {
	if err := m.lock(ctx, op); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []storage.ActiveJob
	for id, j := range m.jobs {
		if match(j.job) {
			out = append(out, m.activeJob(id, j))
		}
	}
	storage.SortActive(out)
	return out, nil
}

func (m *Memory) activeJob(id string, j *memJob) storage.ActiveJob {
	aj := storage.ActiveJob{Job: j.job, Queued: j.queued, ShownPosition: j.shown}
	if j.queued {
		aj.Position = m.position(id)
	}
	return aj
}

// Usage implements storage.Roster.
func (m *Memory) Usage(ctx context.Context, now time.Time, userID, guildID string) (storage.Usage, error) {
	if err := m.lock(ctx, "usage"); err != nil {
		return storage.Usage{}, err
	}
	defer m.mu.Unlock()
	now = ms(now)
	day := utcDay(now)
	var u storage.Usage
	if mu := m.users[userID]; userID != "" {
		if mu.day == day {
			u.UserToday = mu.n
		}
		if mu.until.After(now) {
			u.CooldownUntil = mu.until
		}
	}
	if guildID != "" {
		u.GuildToday = m.days[dayKey(day, guildID)]
	}
	u.BotToday = m.days[dayKey(day, "")]
	return u, nil
}

// Queue implements storage.Roster.
func (m *Memory) Queue(ctx context.Context, limit int) ([]storage.ActiveJob, error) {
	if err := m.lock(ctx, "queue"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	ids := m.queue
	if limit > 0 {
		ids = ids[:min(limit, len(ids))]
	}
	out := make([]storage.ActiveJob, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.activeJob(id, m.jobs[id]))
	}
	return out, nil
}

// ClaimPositionEdit implements storage.Roster.
func (m *Memory) ClaimPositionEdit(ctx context.Context, now time.Time, id string, position int, every time.Duration) (bool, error) {
	if err := m.lock(ctx, "claim position edit"); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	now = ms(now)
	j, ok := m.jobs[id]
	switch {
	case !ok || !j.queued || j.shown == position:
		return false, nil
	case every > 0 && !j.shownAt.IsZero() && now.Sub(j.shownAt) < every.Truncate(time.Millisecond):
		return false, nil
	}
	j.shown, j.shownAt = position, now
	return true, nil
}
