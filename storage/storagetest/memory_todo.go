package storagetest

// Placeholders until Memory implements Settings and Roster; the storage
// work replaces this file.

import (
	"context"
	"errors"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

var errTodo = errors.New("storagetest: not implemented yet")

func (m *Memory) GuildSettings(context.Context, string) (storage.GuildSettings, error) {
	return storage.GuildSettings{}, errTodo
}
func (m *Memory) UpdateGuildSettings(context.Context, string, func(*storage.GuildSettings)) (storage.GuildSettings, error) {
	return storage.GuildSettings{}, errTodo
}
func (m *Memory) Cancel(context.Context, time.Time, string) (storage.Job, error) {
	return storage.Job{}, errTodo
}
func (m *Memory) GuildJobs(context.Context, string) ([]storage.ActiveJob, error) { return nil, errTodo }
func (m *Memory) UserJobs(context.Context, string) ([]storage.ActiveJob, error)  { return nil, errTodo }
func (m *Memory) Usage(context.Context, time.Time, string, string) (storage.Usage, error) {
	return storage.Usage{}, errTodo
}
func (m *Memory) Queue(context.Context, int) ([]storage.ActiveJob, error) { return nil, errTodo }
func (m *Memory) ClaimPositionEdit(context.Context, time.Time, string, int, time.Duration) (bool, error) {
	return false, errTodo
}
