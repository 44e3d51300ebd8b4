package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DefaultBoltFile is the usual name of the Bolt file inside DATA_DIR.
const DefaultBoltFile = "songbot.db"

// BoltOptions configures a Bolt store.
type BoltOptions struct {
	// Logger receives records that had to be moved aside. Nil discards.
	Logger *slog.Logger
	// LockTimeout is how long OpenBolt waits for another process to release
	// the file before it returns ErrLocked. Zero means one second.
	LockTimeout time.Duration
}

// Bolt is a Store in one bbolt file, for a bot that runs as a single process
// on one machine. Only one process can open the file at a time.
type Bolt struct {
	db      *bbolt.DB
	commits *groupCommit // Admit, Reschedule, RescheduleMany, Finish, Cancel, ClaimPositionEdit
	log     *slog.Logger
	writes  *boltWrites // nil but in the write-volume test
	slots   localSlots  // Reserve's, in memory: see slot_bolt.go
}

var _ Store = (*Bolt)(nil)

// Bucket names; see the package documentation.
var (
	bucketJobs  = []byte("jobs")      // id -> JSON request (version 2) or whole record (1)
	bucketState = []byte("job_state") // id -> JSON state (version 2)
	bucketDue   = []byte("due")       // 8-byte big-endian due unix ms || id -> empty
	bucketBad   = []byte("bad")       // id -> JSON {reason, moved_at, raw, state}
)

// lockedError is what OpenBolt returns when another process holds the file.
type lockedError struct {
	path    string
	timeout time.Duration
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("storage: open %s: the file stayed locked for %v; another songbot process is probably using it",
		e.path, e.timeout)
}

func (e *lockedError) Unwrap() error { return ErrLocked }

// OpenBolt opens or creates the store at path, creating its directory
// (mode 0700) if needed. If another process has the file open it waits
// opts.LockTimeout and returns an error wrapping ErrLocked.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, wrapErr("open", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{path: path, timeout: timeout}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range append([][]byte{bucketJobs, bucketState, bucketDue, bucketBad}, gateBuckets...) {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Bolt{db: db, commits: &groupCommit{db: db}, log: logger}
	var released int
	err = b.update(func(t boltTx) error {
		var err error
		released, err = t.releaseLeases()
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open %s: release the leases of the last run: %w", path, err)
	}
	if released > 0 {
		logger.Info("storage: released the leases of the last run; those songs are polled at once", "jobs", released)
	}
	return b, nil
}

// boltTx holds the buckets of one transaction.
type boltTx struct {
	jobs, state, due, bad *bbolt.Bucket
	gate                  gateTx
	writes                *boltWrites
}

func (b *Bolt) txOf(tx *bbolt.Tx) boltTx {
	return boltTx{
		jobs: tx.Bucket(bucketJobs), state: tx.Bucket(bucketState),
		due: tx.Bucket(bucketDue), bad: tx.Bucket(bucketBad),
		gate: gateBucketsOf(tx), writes: b.writes,
	}
}

func (b *Bolt) update(fn func(t boltTx) error) error {
	return b.db.Update(func(tx *bbolt.Tx) error { return fn(b.txOf(tx)) })
}

// batch is update for the writes a burst makes from many goroutines at
// once (Admit, Reschedule, RescheduleMany, Finish, Cancel,
// ClaimPositionEdit; AddSong through historyUpdate): concurrent calls share
// one transaction and its fsync, and each returns once its write is on
// disk. fn may run more than once; see groupCommit.
func (b *Bolt) batch(fn func(t boltTx) error) error {
	return b.commits.do(func(tx *bbolt.Tx) error { return fn(b.txOf(tx)) })
}

// dueKey sorts by due time, then by id, as Redis sorts equal scores.
func dueKey(ms int64, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(ms))
	return append(k, id...)
}

// parseFields reads a stored record's JSON into its fields.
func parseFields(raw []byte) (map[string]string, error) {
	var f map[string]string
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object of strings", ErrCorrupt)
	}
	return f, nil
}

// deleteDue removes id's due entry, if it has one. A readable
// next_poll_at names it, and a queued job has none by design, so a
// readable one is trusted either way: only a record too damaged to say
// costs a scan of the due bucket. (No store operation leaves a readable
// record out of step with its entry; if one were, the stray entry would
// wait for Claim, which drops it once the record has gone.)
func (t boltTx) deleteDue(id string) error {
	if ms, ok := t.dueOf(id); ok {
		return t.due.Delete(dueKey(ms, id))
	}
	c := t.due.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) >= 8 && string(k[8:]) == id {
			return c.Delete()
		}
	}
	return nil
}

// Save implements Store. The job counts as running for the Gate, whatever
// the limits.
func (b *Bolt) Save(ctx context.Context, job Job) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("save", err)
	}
	if job.ID == "" {
		return errors.New("storage: save: empty job ID")
	}
	return wrapErr("save", b.update(func(t boltTx) error {
		old := t.jobs.Get([]byte(job.ID))
		if old != nil {
			if err := t.deleteDue(job.ID); err != nil {
				return err
			}
		}
		if err := t.join(job, old); err != nil {
			return err
		}
		return t.putJob(job, true)
	}))
}

// Claim implements Store in one write transaction, walking the due bucket
// in key order. A claimed job's NextPollAt is the end of its lease.
func (b *Bolt) Claim(ctx context.Context, now time.Time, token string, lease time.Duration, limit int) ([]Job, error) {
	if done, err := checkClaim(ctx, lease, limit); done {
		return nil, err
	}
	nowMs := dueMillis(now)
	// A read first: a claim that finds nothing due (most ticks of an idle
	// bot) costs no write transaction and no fsync.
	var anyDue bool
	if err := b.db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketDue).Cursor().First()
		anyDue = k != nil && (len(k) < 8 || binary.BigEndian.Uint64(k) <= uint64(nowMs))
		return nil
	}); err != nil {
		return nil, wrapErr("claim", err)
	}
	if !anyDue {
		return nil, nil
	}
	until := strconv.FormatInt(nowMs+max(lease.Milliseconds(), 1), 10)
	type moved struct {
		id  string
		err error
	}
	var jobs []Job
	var bad []moved
	err := b.update(func(t boltTx) error {
		jobs, bad = jobs[:0], bad[:0]
		// Collect first: the cursor must not see the keys this claim adds.
		var keys [][]byte
		c := t.due.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
			if len(k) >= 8 && binary.BigEndian.Uint64(k) > uint64(nowMs) {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := t.due.Delete(k); err != nil {
				return err
			}
			if len(k) < 8 {
				continue // not a due key at all
			}
			id := string(k[8:])
			rec, found, err := t.load(id)
			if !found {
				if err := t.release(id, nil); err != nil {
					return err
				}
				continue
			}
			var job Job
			if err == nil {
				job, err = rec.job(id)
			}
			if err != nil {
				bad = append(bad, moved{id, err})
				if err := t.moveBad(id, rec.raw, err, now); err != nil {
					return err
				}
				continue
			}
			job.Attempts++
			state := maps.Clone(rec.state)
			state[fieldAttempts] = strconv.Itoa(job.Attempts)
			state[fieldScheduledAt] = state[fieldNextPollAt]
			state[fieldNextPollAt] = until
			state[fieldLease] = token
			job.ScheduledAt, job.Lease = job.NextPollAt, token
			job.NextPollAt, _ = parseTime(state, fieldNextPollAt)
			if err := t.putState(id, rec, state, true); err != nil {
				return err
			}
			jobs = append(jobs, job)
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr("claim", err)
	}
	for _, m := range bad {
		b.log.ErrorContext(ctx, "storage: moved an undecodable job aside", "id", m.id, "err", m.err)
	}
	return jobs, nil
}

// moveBad keeps the raw record (and its state, if any) in the bad bucket
// for an operator, removes it from jobs and job_state and releases its
// place in the gate's counts; the caller has removed its due entry.
func (t boltTx) moveBad(id string, raw []byte, reason error, now time.Time) error {
	if err := t.release(id, raw); err != nil {
		return err
	}
	v, err := json.Marshal(struct {
		Reason  string `json:"reason"`
		MovedAt int64  `json:"moved_at"`
		Raw     string `json:"raw"`
		State   string `json:"state,omitempty"`
	}{reason.Error(), now.UnixMilli(), string(raw), string(t.state.Get([]byte(id)))})
	if err != nil {
		return err
	}
	if err := t.bad.Put([]byte(id), v); err != nil {
		return err
	}
	return t.deleteRecord(id)
}

// deleteRecord removes id's request and state.
func (t boltTx) deleteRecord(id string) error {
	if err := t.state.Delete([]byte(id)); err != nil {
		return err
	}
	return t.jobs.Delete([]byte(id))
}

// Reschedule implements Store: it rewrites the small job_state value and
// the due entry, never the request in jobs.
func (b *Bolt) Reschedule(ctx context.Context, id string, st State) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("reschedule", err)
	}
	var result error
	err := b.batch(func(t boltTx) error {
		var err error
		result, err = t.reschedule(id, st)
		return err
	})
	if err != nil {
		return wrapErr("reschedule", err)
	}
	return wrapErr("reschedule", result)
}

// RescheduleMany implements Store in one write transaction, writing each
// job's State only.
func (b *Bolt) RescheduleMany(ctx context.Context, jobs []Job) []error {
	errs := make([]error, len(jobs))
	err := ctx.Err()
	if err == nil {
		err = b.batch(func(t boltTx) error {
			clear(errs) // a run that failed may have set some
			for i, job := range jobs {
				var err error
				if errs[i], err = t.reschedule(job.ID, job.State); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i := range errs {
		if err != nil {
			errs[i] = err
		}
		errs[i] = wrapErr("reschedule", errs[i])
	}
	return errs
}

// reschedule returns the job's outcome (ErrNotFound, ErrCorrupt or nil)
// apart from an error that must abort the transaction. Like the Redis
// script, it overwrites the state's fields, keeps attempts and any state
// fields it does not know.
func (t boltTx) reschedule(id string, st State) (result, abort error) {
	rec, found, err := t.load(id)
	switch {
	case !found:
		return ErrNotFound, nil
	case err != nil:
		return err, nil
	}
	if _, err := rec.job(id); err != nil {
		return err, nil
	}
	if st.Lease != "" && rec.state[fieldLease] != st.Lease {
		return ErrLeaseLost, nil
	}
	if err := t.deleteDue(id); err != nil {
		return nil, err
	}
	state := maps.Clone(rec.state)
	maps.Copy(state, pairsToMap(releasedState(st)))
	if err := t.putState(id, rec, state, true); err != nil {
		return nil, err
	}
	return nil, t.markRunning(id)
}

// Extend implements Store in one write transaction.
func (b *Bolt) Extend(ctx context.Context, now time.Time, token string, ids []string, lease time.Duration) ([]string, error) {
	if done, err := checkExtend(ctx, token, ids, lease); done {
		return nil, err
	}
	until := strconv.FormatInt(dueMillis(now)+max(lease.Milliseconds(), 1), 10)
	var lost []string
	err := b.batch(func(t boltTx) error {
		lost = lost[:0]
		for _, id := range ids {
			rec, found, err := t.load(id)
			if !found || err != nil || rec.state[fieldLease] != token {
				lost = append(lost, id)
				continue
			}
			if err := t.deleteDue(id); err != nil {
				return err
			}
			state := maps.Clone(rec.state)
			state[fieldNextPollAt] = until
			if err := t.putState(id, rec, state, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr("extend", err)
	}
	return lost, nil
}

// releaseLeases makes every leased job due again at the time it was due
// before its lease (its scheduled_at; at once if it has none), held by
// nobody: at open
// only this process can use the file, so every lease in it belongs to a
// process that is gone, and its jobs need not wait for the leases to run
// out.
func (t boltTx) releaseLeases() (int, error) {
	type held struct {
		id  string
		rec boltRecord
	}
	var leased []held
	c := t.state.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		f, err := parseFields(v)
		if err != nil || f[fieldLease] == "" {
			continue // an undecodable one is Claim's to move aside
		}
		id := string(k)
		rec, found, err := t.load(id)
		if !found || err != nil {
			continue
		}
		leased = append(leased, held{id, rec})
	}
	for _, h := range leased {
		if err := t.deleteDue(h.id); err != nil {
			return 0, err
		}
		state := maps.Clone(h.rec.state)
		state[fieldLease] = ""
		state[fieldNextPollAt] = state[fieldScheduledAt]
		if err := t.putState(h.id, h.rec, state, true); err != nil {
			return 0, err
		}
	}
	return len(leased), nil
}

// Finish implements Store; it also releases the job's place in the gate's
// counts.
func (b *Bolt) Finish(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrapErr("finish", err)
	}
	var removed bool
	err := b.batch(func(t boltTx) error {
		removed = false
		raw := t.jobs.Get([]byte(id))
		if raw == nil {
			return nil
		}
		if err := t.deleteDue(id); err != nil {
			return err
		}
		if err := t.release(id, raw); err != nil {
			return err
		}
		removed = true
		return t.deleteRecord(id)
	})
	if err != nil {
		return false, wrapErr("finish", err)
	}
	return removed, nil
}

// Get implements Store.
func (b *Bolt) Get(ctx context.Context, id string) (Job, error) {
	if err := ctx.Err(); err != nil {
		return Job{}, wrapErr("get", err)
	}
	var job Job
	err := b.db.View(func(tx *bbolt.Tx) error {
		rec, found, err := b.txOf(tx).load(id)
		switch {
		case !found:
			return ErrNotFound
		case err != nil:
			return err
		}
		job, err = rec.job(id)
		return err
	})
	if err != nil {
		return Job{}, wrapErr("get", err)
	}
	return job, nil
}

// Count implements Store.
func (b *Bolt) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapErr("count", err)
	}
	var n int
	err := b.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketJobs).Stats().KeyN
		return nil
	})
	return n, wrapErr("count", err)
}

// Ping implements Store: it fails once the store is closed.
func (b *Bolt) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("ping", err)
	}
	return wrapErr("ping", b.db.View(func(*bbolt.Tx) error { return nil }))
}

// Close implements Store.
func (b *Bolt) Close() error {
	return wrapErr("close", b.db.Close())
}
