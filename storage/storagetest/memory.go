package storagetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// Memory is an in-memory store with the semantics of storage.Redis and
// storage.Bolt: the Store, Gate, Settings, Roster, History and Slots
// methods, the same limits and server overrides, FIFO queue, cooldowns,
// daily counts by UTC day, cancel, history TTLs, slots and finish-once. It
// passes the same contract suites (Run, RunGate, RunGuild, RunHistory,
// RunSlots), so the bot's unit tests can use it instead of a
// redis-server. Times are kept to the millisecond in UTC, as the real
// stores keep them.
//
// One mutex guards everything; it is safe for concurrent use. It keeps
// nothing across processes, so it is for tests only.
type Memory struct {
	now func() time.Time // the history's clock; Store and Gate take now

	mu     sync.Mutex
	closed bool
	jobs   map[string]*memJob
	queue  []string // queued job ids, oldest first
	users  map[string]memUser
	songs  map[string]memSong
	lists  map[string]*memList // user id -> their list of songs
	meta   map[string]string
	seen   map[string]time.Time // admitted ids, until SeenTTL after
	slots  map[string]time.Time // Reserve's slot names, until they free
	// settings are the guilds' settings as stored (see storedSettings).
	settings map[string]storage.GuildSettings
	// days counts admissions per UTC day: dayKey(day, "") the bot's,
	// dayKey(day, guild) a guild's.
	days map[string]int
}

// memJob is a stored job; a job not queued is running, and due at its
// NextPollAt.
type memJob struct {
	job     storage.Job
	queued  bool
	day     string    // the UTC day of its admission, whose counts it raised; "" when saved
	shown   int       // the queue place its reply last showed
	shownAt time.Time // when it showed it
}

// memUser is what the cooldown and the daily limit remember of a user.
type memUser struct {
	last  time.Time // the last admission; zero when the cooldown was off
	until time.Time // when the cooldown it started ends
	day   string    // YYYYMMDD (UTC) that n counts
	n     int
}

var (
	_ storage.Store    = (*Memory)(nil)
	_ storage.Gate     = (*Memory)(nil)
	_ storage.History  = (*Memory)(nil)
	_ storage.Settings = (*Memory)(nil)
	_ storage.Roster   = (*Memory)(nil)
	_ storage.Slots    = (*Memory)(nil)
)

// NewMemory returns an empty store. now is the clock of the history's TTLs
// (AddSong, Song, Songs read it where Redis and Bolt read the wall clock);
// nil means time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		now:   now,
		jobs:  map[string]*memJob{},
		users: map[string]memUser{},
		songs: map[string]memSong{},
		lists: map[string]*memList{},
		meta:  map[string]string{},
		seen:  map[string]time.Time{},
		slots: map[string]time.Time{},

		settings: map[string]storage.GuildSettings{},
		days:     map[string]int{},
	}
}

// memError names the operation as the real stores' errors do:
// "storage: get: job not found".
type memError struct {
	op  string
	err error
}

func (e *memError) Error() string {
	return "storage: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "storage: ")
}

func (e *memError) Unwrap() error { return e.err }

var errClosed = errors.New("storage: the store is closed")

// lock takes the mutex unless ctx is done or the store closed; on success
// the caller unlocks.
func (m *Memory) lock(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return &memError{op, err}
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return &memError{op, errClosed}
	}
	return nil
}

// ms keeps t as the stores do: to the millisecond, in UTC; zero stays zero.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// dueMillis is when a job due at t sorts: the zero time, and any before
// 1970, at once.
func dueMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixMilli(), 0)
}

func normalized(job storage.Job) storage.Job {
	job.InteractionAt = ms(job.InteractionAt)
	job.SubmittedAt = ms(job.SubmittedAt)
	job.NextPollAt = ms(job.NextPollAt)
	job.ScheduledAt = ms(job.ScheduledAt)
	return job
}

// Save implements storage.Store; the job runs, whatever the limits.
func (m *Memory) Save(ctx context.Context, job storage.Job) error {
	if err := m.lock(ctx, "save"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if job.ID == "" {
		return errors.New("storage: save: empty job ID")
	}
	m.leaveQueue(job.ID)
	m.jobs[job.ID] = &memJob{job: normalized(job)}
	return nil
}

// Claim implements storage.Store.
func (m *Memory) Claim(ctx context.Context, now time.Time, token string, lease time.Duration, limit int) ([]storage.Job, error) {
	if err := m.lock(ctx, "claim"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	switch {
	case lease <= 0:
		return nil, errors.New("storage: claim: lease must be positive")
	case limit <= 0:
		return nil, nil
	}
	nowMs := dueMillis(now)
	var due []*memJob
	for _, j := range m.jobs {
		if !j.queued && dueMillis(j.job.NextPollAt) <= nowMs {
			due = append(due, j)
		}
	}
	slices.SortFunc(due, func(a, b *memJob) int {
		return cmp.Or(cmp.Compare(dueMillis(a.job.NextPollAt), dueMillis(b.job.NextPollAt)), strings.Compare(a.job.ID, b.job.ID))
	})
	due = due[:min(len(due), limit)]
	until := time.UnixMilli(nowMs + max(lease.Milliseconds(), 1)).UTC()
	jobs := make([]storage.Job, len(due))
	for i, j := range due {
		j.job.Attempts++
		j.job.ScheduledAt = j.job.NextPollAt
		j.job.NextPollAt = until
		j.job.Lease = token
		jobs[i] = j.job
	}
	return jobs, nil
}

// Reschedule implements storage.Store: it writes the state, never the
// request, and keeps the stored attempts.
func (m *Memory) Reschedule(ctx context.Context, id string, st storage.State) error {
	if err := m.lock(ctx, "reschedule"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	return m.reschedule(id, st)
}

// RescheduleMany implements storage.Store, all under one lock.
func (m *Memory) RescheduleMany(ctx context.Context, jobs []storage.Job) []error {
	errs := make([]error, len(jobs))
	if err := m.lock(ctx, "reschedule"); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	defer m.mu.Unlock()
	for i, job := range jobs {
		errs[i] = m.reschedule(job.ID, job.State)
	}
	return errs
}

func (m *Memory) reschedule(id string, st storage.State) error {
	j, ok := m.jobs[id]
	if !ok {
		return &memError{"reschedule", storage.ErrNotFound}
	}
	if st.Lease != "" && j.job.Lease != st.Lease {
		return &memError{"reschedule", storage.ErrLeaseLost}
	}
	st.Attempts = j.job.Attempts
	st.Lease = ""
	j.job.State = st
	j.job = normalized(j.job)
	m.leaveQueue(id) // a due job runs
	j.queued = false
	return nil
}

// Extend implements storage.Store, all under one lock.
func (m *Memory) Extend(ctx context.Context, now time.Time, token string, ids []string, lease time.Duration) ([]string, error) {
	if err := m.lock(ctx, "extend"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if len(ids) == 0 {
		return nil, nil
	}
	if token == "" || lease <= 0 {
		return nil, errors.New("storage: extend: a token and a positive lease are required")
	}
	until := time.UnixMilli(dueMillis(now) + max(lease.Milliseconds(), 1)).UTC()
	var lost []string
	for _, id := range ids {
		j, ok := m.jobs[id]
		if !ok || j.job.Lease != token {
			lost = append(lost, id)
			continue
		}
		j.job.NextPollAt = until
	}
	return lost, nil
}

// Finish implements storage.Store: true only for the call that removed
// the job, which releases its place in the gate's counts.
func (m *Memory) Finish(ctx context.Context, id string) (bool, error) {
	if err := m.lock(ctx, "finish"); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if _, ok := m.jobs[id]; !ok {
		return false, nil
	}
	m.leaveQueue(id)
	delete(m.jobs, id)
	return true, nil
}

// Get implements storage.Store.
func (m *Memory) Get(ctx context.Context, id string) (storage.Job, error) {
	if err := m.lock(ctx, "get"); err != nil {
		return storage.Job{}, err
	}
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return storage.Job{}, &memError{"get", storage.ErrNotFound}
	}
	return j.job, nil
}

// Count implements storage.Store: running and queued jobs.
func (m *Memory) Count(ctx context.Context) (int, error) {
	if err := m.lock(ctx, "count"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return len(m.jobs), nil
}

// Ping implements storage.Store: it fails once the store is closed.
func (m *Memory) Ping(ctx context.Context) error {
	if err := m.lock(ctx, "ping"); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

// Close implements storage.Store; every later call fails.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// leaveQueue takes id out of the queue, if it is queued.
func (m *Memory) leaveQueue(id string) {
	if i := slices.Index(m.queue, id); i >= 0 {
		m.queue = slices.Delete(m.queue, i, i+1)
	}
}
