package storage

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"sync"
)

// How Bolt keeps a job record. Version 2 keeps the request in "jobs",
// written once by Save or Admit, and the state in "job_state", a small
// value that Claim, Reschedule and Promote rewrite on every poll. A
// version 1 record (the whole job in "jobs") is read as it is, and split on
// its first write: the one time its request is written again.

// boltRecord is one job record as read inside a transaction.
type boltRecord struct {
	raw   []byte            // the jobs value, as stored
	req   map[string]string // raw parsed: the request (v2) or the whole record (v1)
	state map[string]string // the job_state value; for v1, req's state fields
	v1    bool
}

// load reads id's record. found is false when "jobs" holds nothing for id;
// err wraps ErrCorrupt when what it holds cannot be parsed, or a version 2
// record has no state.
func (t boltTx) load(id string) (rec boltRecord, found bool, err error) {
	rec.raw = t.jobs.Get([]byte(id))
	if rec.raw == nil {
		return rec, false, nil
	}
	if rec.req, err = parseFields(rec.raw); err != nil {
		return rec, true, err
	}
	if rec.req[fieldVersion] == strconv.Itoa(recordV1) {
		rec.v1 = true
		rec.state = map[string]string{}
		for _, name := range stateFields {
			if v, ok := rec.req[name]; ok {
				rec.state[name] = v
			}
		}
		return rec, true, nil
	}
	raw := t.state.Get([]byte(id))
	switch {
	case raw != nil:
		if rec.state, err = parseFields(raw); err != nil {
			return rec, true, fmt.Errorf("%w (the state)", err)
		}
	case rec.req[fieldVersion] == strconv.Itoa(recordV2):
		return rec, true, fmt.Errorf("%w: no state record", ErrCorrupt)
	default: // an unknown version, which job reports
		rec.state = map[string]string{}
	}
	return rec, true, nil
}

// job decodes the record.
func (rec boltRecord) job(id string) (Job, error) {
	if rec.v1 {
		return decodeRecord(id, rec.req, recordV1)
	}
	f := maps.Clone(rec.req)
	maps.Copy(f, rec.state)
	return decodeRecord(id, f, recordV2)
}

// putRequest writes the request of a new job as a version 2 record.
func (t boltTx) putRequest(id string, r Request) error {
	return t.putRequestFields(id, pairsToMap(encodeRequest(r)))
}

func (t boltTx) putRequestFields(id string, f map[string]string) error {
	f[fieldVersion] = strconv.Itoa(recordV2)
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	t.writes.add("jobs", len(raw))
	return t.jobs.Put([]byte(id), raw)
}

// putState writes the job's state and, when due, its due entry; the
// caller has removed the old due entry. rec is the record read before
// (zero for a new job): a version 1 record is split first, so its state
// fields leave "jobs" and only "job_state" holds them from then on.
func (t boltTx) putState(id string, rec boltRecord, state map[string]string, due bool) error {
	if rec.v1 {
		req := make(map[string]string, len(rec.req))
		for k, v := range rec.req {
			if !isStateField(k) {
				req[k] = v
			}
		}
		if err := t.putRequestFields(id, req); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return err
	}
	t.writes.add("job_state", len(raw))
	if err := t.state.Put([]byte(id), raw); err != nil {
		return err
	}
	if !due {
		return nil
	}
	next, err := parseTime(state, fieldNextPollAt)
	if err != nil {
		return err
	}
	key := dueKey(dueMillis(next), id)
	t.writes.add("due", len(key))
	return t.due.Put(key, nil)
}

// putJob stores a new job: its request, its state and, when due, its due
// entry.
func (t boltTx) putJob(job Job, due bool) error {
	if err := t.putRequest(job.ID, job.Request); err != nil {
		return err
	}
	return t.putState(job.ID, boltRecord{}, pairsToMap(encodeState(job.State)), due)
}

// dueOf returns the due time that names id's due entry: the state's
// next_poll_at, or a version 1 record's. ok is false when neither says,
// which only a damaged record causes.
func (t boltTx) dueOf(id string) (ms int64, ok bool) {
	for _, raw := range [][]byte{t.state.Get([]byte(id)), t.jobs.Get([]byte(id))} {
		if raw == nil {
			continue
		}
		f, err := parseFields(raw)
		if err != nil {
			continue
		}
		if _, present := f[fieldNextPollAt]; !present {
			continue
		}
		next, err := parseTime(f, fieldNextPollAt)
		if err != nil {
			return 0, false
		}
		return dueMillis(next), true
	}
	return 0, false
}

// boltWrites counts what the job buckets are given, puts and bytes per
// bucket, for the test that proves a poll writes the state only. It is nil,
// and costs nothing, outside that test. A run of a batch that bbolt
// repeats (see groupCommit) counts twice; that test makes no concurrent
// writes.
type boltWrites struct {
	mu    sync.Mutex
	puts  map[string]int
	bytes map[string]int
}

func (w *boltWrites) add(bucket string, n int) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.puts[bucket]++
	w.bytes[bucket] += n
}

func (w *boltWrites) take() (puts, bytes map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	puts, bytes = w.puts, w.bytes
	w.puts, w.bytes = map[string]int{}, map[string]int{}
	return puts, bytes
}
