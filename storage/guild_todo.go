package storage

// Placeholders until the Redis and Bolt implementations of Settings and
// Roster land; the storage work replaces this file.

import (
	"context"
	"errors"
	"time"
)

var errTodo = errors.New("storage: not implemented yet")

func (r *Redis) GuildSettings(context.Context, string) (GuildSettings, error) {
	return GuildSettings{}, errTodo
}
func (r *Redis) UpdateGuildSettings(context.Context, string, func(*GuildSettings)) (GuildSettings, error) {
	return GuildSettings{}, errTodo
}
func (r *Redis) Cancel(context.Context, time.Time, string) (Job, error) { return Job{}, errTodo }
func (r *Redis) GuildJobs(context.Context, string) ([]ActiveJob, error) { return nil, errTodo }
func (r *Redis) UserJobs(context.Context, string) ([]ActiveJob, error)  { return nil, errTodo }
func (r *Redis) Usage(context.Context, time.Time, string, string) (Usage, error) {
	return Usage{}, errTodo
}
func (r *Redis) Queue(context.Context, int) ([]ActiveJob, error) { return nil, errTodo }
func (r *Redis) ClaimPositionEdit(context.Context, time.Time, string, int, time.Duration) (bool, error) {
	return false, errTodo
}

func (b *Bolt) GuildSettings(context.Context, string) (GuildSettings, error) {
	return GuildSettings{}, errTodo
}
func (b *Bolt) UpdateGuildSettings(context.Context, string, func(*GuildSettings)) (GuildSettings, error) {
	return GuildSettings{}, errTodo
}
func (b *Bolt) Cancel(context.Context, time.Time, string) (Job, error) { return Job{}, errTodo }
func (b *Bolt) GuildJobs(context.Context, string) ([]ActiveJob, error) { return nil, errTodo }
func (b *Bolt) UserJobs(context.Context, string) ([]ActiveJob, error)  { return nil, errTodo }
func (b *Bolt) Usage(context.Context, time.Time, string, string) (Usage, error) {
	return Usage{}, errTodo
}
func (b *Bolt) Queue(context.Context, int) ([]ActiveJob, error) { return nil, errTodo }
func (b *Bolt) ClaimPositionEdit(context.Context, time.Time, string, int, time.Duration) (bool, error) {
	return false, errTodo
}

var (
	_ Settings = (*Redis)(nil)
	_ Roster   = (*Redis)(nil)
	_ Settings = (*Bolt)(nil)
	_ Roster   = (*Bolt)(nil)
)
