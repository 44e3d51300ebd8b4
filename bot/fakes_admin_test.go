package bot

import (
	"context"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// fakeSettings is ServerSettings as function fields.
type fakeSettings struct {
	GuildSettingsFn       func(guildID string) (storage.GuildSettings, error)
	UpdateGuildSettingsFn func(guildID string, change func(*storage.GuildSettings)) (storage.GuildSettings, error)
}

func (f fakeSettings) GuildSettings(_ context.Context, guildID string) (storage.GuildSettings, error) {
	if f.GuildSettingsFn == nil {
		return storage.GuildSettings{}, nil // a server nobody configured
	}
	return f.GuildSettingsFn(guildID)
}

func (f fakeSettings) UpdateGuildSettings(_ context.Context, guildID string, change func(*storage.GuildSettings)) (storage.GuildSettings, error) {
	if f.UpdateGuildSettingsFn == nil {
		panic("unexpected call of UpdateGuildSettings")
	}
	return f.UpdateGuildSettingsFn(guildID, change)
}

// fakeRoster is Canceller, UserStanding, QueuePositions and GuildRoster
// as function fields.
type fakeRoster struct {
	CancelFn            func(id string) (storage.Job, error)
	GuildJobsFn         func(guildID string) ([]storage.ActiveJob, error)
	UserJobsFn          func(userID string) ([]storage.ActiveJob, error)
	UsageFn             func(now time.Time, userID, guildID string) (storage.Usage, error)
	QueueFn             func(limit int) ([]storage.ActiveJob, error)
	ClaimPositionEditFn func(id string, position int, every time.Duration) (bool, error)
}

func (f fakeRoster) Cancel(_ context.Context, _ time.Time, id string) (storage.Job, error) {
	if f.CancelFn == nil {
		panic("unexpected call of Cancel")
	}
	return f.CancelFn(id)
}

func (f fakeRoster) GuildJobs(_ context.Context, guildID string) ([]storage.ActiveJob, error) {
	if f.GuildJobsFn == nil {
		panic("unexpected call of GuildJobs")
	}
	return f.GuildJobsFn(guildID)
}

func (f fakeRoster) UserJobs(_ context.Context, userID string) ([]storage.ActiveJob, error) {
	if f.UserJobsFn == nil {
		panic("unexpected call of UserJobs")
	}
	return f.UserJobsFn(userID)
}

func (f fakeRoster) Usage(_ context.Context, now time.Time, userID, guildID string) (storage.Usage, error) {
	if f.UsageFn == nil {
		panic("unexpected call of Usage")
	}
	return f.UsageFn(now, userID, guildID)
}

func (f fakeRoster) Queue(_ context.Context, limit int) ([]storage.ActiveJob, error) {
	if f.QueueFn == nil {
		panic("unexpected call of Queue")
	}
	return f.QueueFn(limit)
}

func (f fakeRoster) ClaimPositionEdit(_ context.Context, _ time.Time, id string, position int, every time.Duration) (bool, error) {
	if f.ClaimPositionEditFn == nil {
		panic("unexpected call of ClaimPositionEdit")
	}
	return f.ClaimPositionEditFn(id, position, every)
}
